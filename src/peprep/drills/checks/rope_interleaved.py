"""Checks for `rope-interleaved`: pairs (2i, 2i+1) (see `rope_common`)."""

from peprep.drills.checks.rope_common import make_properties

PROPERTIES = make_properties("interleaved")
