"""`peprep stats`: what the content holds, per chapter and in total (a stable JSON shape others read)."""

from __future__ import annotations

from peprep.content.schema import Chapter, Content, walk_asked

COUNT_KEYS = ("knowledge_points", "questions", "followups", "verified_claims", "figures", "references")


def chapter_stats(chapter: Chapter) -> dict:
    kps = chapter.knowledge_points
    followups = sum(len(item.followups) for q in chapter.questions for item in walk_asked(q))
    return {
        "id": chapter.id,
        "title": chapter.title,
        "knowledge_points": len(kps),
        "questions": len(chapter.questions),
        # every 追问 at every depth, inline or by `ref:`
        "followups": followups,
        # KPs with at least one test proving their claims
        "verified_claims": sum(1 for kp in kps if kp.verified_by),
        "figures": len({kp.figure for kp in kps if kp.figure}),
        # distinct papers the chapter's KPs cite
        "references": len({key for kp in kps for key in kp.refs}),
    }


def content_stats(content: Content) -> dict:
    chapters = [chapter_stats(c) for c in content.chapters]
    totals = {key: sum(c[key] for c in chapters) for key in COUNT_KEYS}
    # Totals of sets (figures, references) are distinct across chapters, not sums.
    kps = content.knowledge_points()
    totals["figures"] = len({kp.figure for kp in kps if kp.figure})
    totals["references"] = len({key for kp in kps for key in kp.refs})
    return {"chapters": chapters, "totals": totals}
