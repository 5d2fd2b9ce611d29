"""followup-acyclic: `ref:` follow-ups point at existing items, and no chain of 追问 loops back."""

from __future__ import annotations

from collections.abc import Iterable

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import Asked, Content, FollowUp, FollowUpRef


@rule("followup-acyclic", "`ref:` follow-ups name existing items and follow-up chains never loop")
def check_followup_acyclic(content: Content) -> Iterable[Problem]:
    items = content.asked_index()
    edges: dict[str, list[tuple[str, FollowUpRef | FollowUp]]] = {}
    for item_id, item in items.items():
        edges[item_id] = []
        for follow in item.followups:
            if isinstance(follow, FollowUpRef):
                if follow.ref not in items:
                    yield Problem(follow.file, follow.line("ref"), "followup-acyclic",
                                  f"follow-up of {item_id} refers to unknown item '{follow.ref}'",
                                  "use the full id of an existing question or follow-up")
                    continue
                edges[item_id].append((follow.ref, follow))
            else:
                edges[item_id].append((follow.full_id, follow))
    yield from _cycles(edges, items)


def _cycles(edges, items: dict[str, Asked]) -> Iterable[Problem]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in edges:
        if state.get(start):
            continue
        stack = [(start, iter(edges[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            target, follow = child
            if state.get(target) == 1:
                loop = " -> ".join(path[path.index(target):] + [target])
                yield Problem(follow.file, follow.line(), "followup-acyclic", f"follow-up chain loops: {loop}",
                              "point the `ref:` at an item that does not lead back here")
            elif not state.get(target):
                state[target] = 1
                path.append(target)
                stack.append((target, iter(edges.get(target, []))))
