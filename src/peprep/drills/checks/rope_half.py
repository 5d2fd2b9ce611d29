"""Checks for `rope-half`: pairs (i, i + D/2), rotate_half (see `rope_common`)."""

from peprep.drills.checks.rope_common import make_properties

PROPERTIES = make_properties("half")
