"""The source's order of its open stages and their probabilities, from everything an
export tells (docs/migrate.md, "The source's stage order"):

1. **Stated places** (Salesforce's ``StageSortOrder``; a stages file's ``order``) are
   kept as they are: they are the source's own order.
2. **The history**: the stages each deal passed through, in time order (repeats
   collapsed). A transition X → Y, seen more often than Y → X, says X comes before Y;
   these are kept from the most seen down, unless they contradict the stated places or
   what is already kept (a deal moved back). The open stages are then put in an order
   that keeps every one of those (a topological order).
3. **Ties** (stages nothing above puts in order) go by each stage's typical place: its
   neighbours' places averaged over every time a deal entered or left it (the start of a
   deal before the first stage, a won or lost stage after the last; solved until the
   averages agree), then by probability, then by the order the export lists them, then
   by first appearance.
4. Salesforce numbers its stages 1, 2, 3 … in its picklist: a stage no current deal holds
   (seen only in the history) left a gap in the numbers. When every stated place is a
   whole number, the stages without one take the free numbers, in the order above,
   each as near its typical place as may be, if that keeps every transition kept in 2.

Probabilities: the export's (the most common value per stage, ``probabilities``); a
stage without one gets an estimate, linear between its nearest neighbours with a known
probability (0 % before the first stage, 100 % after the last), shown as estimated."""

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# How a stage's place was found.
GIVEN, STATED, HISTORY, PROBABILITY, LISTED, UNKNOWN = (
    "given",
    "stated",
    "history",
    "probability",
    "listed",
    "unknown",
)
START = None  # the "from" of a deal's first stage

Transitions = dict[tuple[str | None, str], int]


@dataclass
class Ordered:
    """The open stages in the source's order, and how each one's place was found."""

    labels: list[str]
    how: dict[str, str]


def order_open(
    opens: list[str],
    *,
    stated: dict[str, float],
    given: Iterable[str] = (),
    transitions: Transitions,
    outcomes: dict[str, float | None],
    probabilities: dict[str, float],
    listed: dict[str, float],
) -> Ordered:
    """``opens``: the open stages in first-appearance order; ``stated``: the places the
    export states or the user gives (``given``: those the user gave); ``transitions``:
    (from, to) -> how many deals moved so (from ``START``: created in ``to``);
    ``outcomes``: won and lost stages -> their stated place, if any; ``listed``: the
    order the export lists stages in, a weak hint (HubSpot's columns)."""
    given = set(given)
    first_seen = {label: i for i, label in enumerate(opens)}
    anchors = {s: float(stated[s]) for s in opens if s in stated}
    known = list(anchors.values()) + [p for p in outcomes.values() if p is not None]
    low = min(known) - 1 if known else 0.0
    high = max(known) + 1 if known else 1.0
    ends = {label: (high if place is None else float(place)) for label, place in outcomes.items()}
    free = [s for s in opens if s not in anchors]
    typical = _typical_places(free, anchors, ends, low, transitions)
    place = {**anchors, **typical}
    edges = _kept_edges(opens, anchors, transitions)

    def key(label: str) -> tuple[float, float, float, int]:
        inf = float("inf")
        return (
            place.get(label, inf),
            probabilities.get(label, inf),
            listed.get(label, inf),
            first_seen[label],
        )

    labels = _topological(opens, edges, key)
    snapped = _snap(labels, anchors, ends, typical, edges)
    if snapped is not None:
        labels = sorted(opens, key=lambda s: snapped[s])
    # Placed by the history: it was entered from, or left for, another stage.
    moved = {label for (a, b) in transitions if a is not None and a != b for label in (a, b)}
    how = {}
    for label in opens:
        if label in given:
            how[label] = GIVEN
        elif label in anchors:
            how[label] = STATED
        elif label in moved:
            how[label] = HISTORY
        elif label in probabilities:
            how[label] = PROBABILITY
        elif label in listed:
            how[label] = LISTED
        else:
            how[label] = UNKNOWN
    return Ordered(labels, how)


def _typical_places(
    free: list[str],
    anchors: dict[str, float],
    ends: dict[str, float],
    low: float,
    transitions: Transitions,
) -> dict[str, float]:
    """Each stage without a stated place: the average place of the stages deals came
    from and went to (the start of a deal at ``low``, a won or lost stage at its place),
    solved by repeated averaging (Gauss-Seidel: it converges, every deal's chain being
    tied to its start). A stage no transition names has none."""
    wanted = set(free)
    neighbours: dict[str, list[tuple[str | None, int]]] = defaultdict(list)
    for (a, b), n in transitions.items():
        if a == b:
            continue
        if b in wanted:
            neighbours[b].append((a, n))
        if a in wanted:
            neighbours[a].append((b, n))
    fixed = {**anchors, **ends}
    middle = (low + max([*fixed.values(), low + 2])) / 2
    estimate = {s: middle for s in free if neighbours[s]}

    def value(label: str | None) -> float | None:
        if label is None:
            return low
        if label in fixed:
            return fixed[label]
        return estimate.get(label)

    for _round in range(2000):
        change = 0.0
        for label in estimate:
            total = weight = 0.0
            for other, n in neighbours[label]:
                v = value(other)
                if v is not None:
                    total, weight = total + n * v, weight + n
            new = total / weight
            change = max(change, abs(new - estimate[label]))
            estimate[label] = new
        if change < 1e-9:
            break
    return estimate


def _kept_edges(
    opens: list[str], anchors: dict[str, float], transitions: Transitions
) -> dict[str, set[str]]:
    """Before-after pairs: the stated places in their order, then each transition
    between open stages seen more often than its reverse, most seen first, unless it
    closes a circle with those kept."""
    after: dict[str, set[str]] = {s: set() for s in opens}
    by_place: dict[float, list[str]] = defaultdict(list)
    for label, place in anchors.items():
        by_place[place].append(label)
    places = sorted(by_place)
    for lower, upper in itertools.pairwise(places):
        for a in by_place[lower]:
            after[a].update(by_place[upper])
    opened = set(opens)
    net = []
    for (a, b), n in transitions.items():
        if a in opened and b in opened and a != b:
            surplus = n - transitions.get((b, a), 0)
            if surplus > 0:
                net.append((-surplus, opens.index(a), opens.index(b), a, b))
    for _surplus, _i, _j, a, b in sorted(net):
        if not _reaches(after, b, a):
            after[a].add(b)
    return after


def _reaches(after: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        label = todo.pop()
        if label == goal:
            return True
        for nxt in after[label] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return False


def _topological(
    opens: list[str], after: dict[str, set[str]], key: Callable[[str], tuple]
) -> list[str]:
    """An order keeping every pair of ``after``; of the stages free to come next, the one
    with the smallest ``key``."""
    before_count = dict.fromkeys(opens, 0)
    for label in opens:
        for nxt in after[label]:
            before_count[nxt] += 1
    ready = [s for s in opens if before_count[s] == 0]
    out = []
    while ready:
        ready.sort(key=key)
        label = ready.pop(0)
        out.append(label)
        for nxt in after[label]:
            before_count[nxt] -= 1
            if before_count[nxt] == 0:
                ready.append(nxt)
    return out


def _snap(
    labels: list[str],
    anchors: dict[str, float],
    ends: dict[str, float],
    typical: dict[str, float],
    after: dict[str, set[str]],
) -> dict[str, float] | None:
    """Whole-number places for the stages without one, in the free numbers of a
    numbered picklist (see the module docstring, 4.); None when the places are not whole
    numbers, a stage has no typical place, or the result would break a kept pair."""
    free = [s for s in labels if s not in anchors]
    taken = [*anchors.values(), *ends.values()]
    if not free or not anchors or any(s not in typical for s in free):
        return None
    if any(p != int(p) for p in taken):
        return None
    top = int(max(taken))
    used = {int(p) for p in taken}
    slots = [n for n in range(min(1, int(min(taken))), top + 1) if n not in used]
    slots += list(range(top + 1, top + 1 + len(free)))
    chosen = _closest_increasing([typical[s] for s in free], slots)
    place = {**anchors, **dict(zip(free, chosen, strict=True))}
    for label, nexts in after.items():
        if any(place[label] >= place[n] for n in nexts):
            return None
    return place


def _closest_increasing(values: list[float], slots: list[int]) -> list[int]:
    """An increasing choice of ``len(values)`` slots, the i-th for the i-th value, with
    the least total distance (dynamic programming over values × slots)."""
    k, m = len(values), len(slots)
    inf = float("inf")
    # cost[i][j]: the best for values[:i+1] with value i in slots[j]
    cost = [[inf] * m for _ in range(k)]
    back = [[-1] * m for _ in range(k)]
    for j in range(m):
        cost[0][j] = abs(values[0] - slots[j])
    for i in range(1, k):
        best, best_j = inf, -1
        for j in range(m):
            if j > 0 and cost[i - 1][j - 1] < best:
                best, best_j = cost[i - 1][j - 1], j - 1
            if best_j >= 0:
                cost[i][j] = best + abs(values[i] - slots[j])
                back[i][j] = best_j
    j = min(range(m), key=lambda x: (cost[k - 1][x], x))
    chosen = []
    for i in range(k - 1, -1, -1):
        chosen.append(slots[j])
        j = back[i][j]
    return chosen[::-1]


def estimated_probabilities(labels: list[str], known: dict[str, float]) -> dict[str, float]:
    """The open stages (in order) without a known probability: linear between the
    nearest stages with one, 0 % before the first stage and 100 % after the last."""
    points = [(0, 0.0)]
    points += [(i, known[s]) for i, s in enumerate(labels, start=1) if s in known]
    points.append((len(labels) + 1, 100.0))
    out = {}
    for i, label in enumerate(labels, start=1):
        if label in known:
            continue
        lo = max((p for p in points if p[0] < i), key=lambda p: p[0])
        hi = min((p for p in points if p[0] > i), key=lambda p: p[0])
        share = (i - lo[0]) / (hi[0] - lo[0])
        out[label] = round(lo[1] + (hi[1] - lo[1]) * share, 1)
    return out
