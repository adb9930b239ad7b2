"""Suggested duplicates: incidents that may report the same override as this one.

Signals, strongest first:
- an identical transcript (the same SHA-256 of the raw upload);
- the same AI system (linked, or the same name as reported) together with similar text;
- similar title or instruction on their own (trigram word similarity on PostgreSQL).

Every query is bounded: PostgreSQL answers from the trigram GIN indexes on title and instruction
(migration 0006), the full-text GIN index (migration 0002) within one linked system, and the
transcript hash index; each candidate query has a LIMIT. Other databases (the embedded SQLite
default) use ``suggest_simple``: the same system name plus a few words matched with LIKE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from incidents.models import Incident, Status, Transcript

# Suggestions never offered: the incident itself, rejected ones, and duplicates (their canonical is offered).
EXCLUDED_STATUSES = (Status.REJECTED, Status.DUPLICATE)
# How many rows each candidate query returns, and how many matching rows it may score to find them.
CANDIDATES = 50
MATCHED = 300
# pg_trgm's word_similarity threshold for the %> operator (its default, 0.6, misses reworded reports).
WORD_SIMILARITY_THRESHOLD = 0.45
# Only the start of a long text is compared: enough to recognise it, and the index lookup stays small.
COMPARED_CHARS = 500
# Weights of each signal in the 0..1 score.
SAME_TRANSCRIPT = 1.0
SAME_SYSTEM = 0.3
TEXT = 0.35  # for each of title and instruction, times the similarity
SHARED_WORDS = 0.2

_COMMON_WORDS = (
    "about after again also among because been before being could didn does doing done from have having "
    "into just more most only other over said same should such than that their them then there these they "
    "this those through told under until very were what when where which while will with without would your"
)
STOPWORDS = frozenset(_COMMON_WORDS.split())


@dataclass
class Suggestion:
    incident: Incident
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    system_compared: bool = field(default=False, repr=False)
    text_compared: bool = field(default=False, repr=False)

    def add(self, weight: float, reason: str) -> None:
        self.score = min(1.0, round(self.score + weight, 3))
        self.reasons.append(reason)

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def suggest(incident: Incident, limit: int = 5) -> list[Suggestion]:
    """The most likely duplicates of ``incident``, best first, each with its reasons."""
    if connection.vendor == "postgresql":
        return suggest_postgresql(incident, limit)
    return suggest_simple(incident, limit)


def candidates_for(incident: Incident) -> QuerySet[Incident]:
    return Incident.objects.exclude(pk=incident.pk).exclude(status__in=EXCLUDED_STATUSES)


def candidates_for_pks(pks: QuerySet) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(pk__in=pks)
        .select_related("ai_system__vendor")
        .defer("action_taken", "harms", "references", "tool_permissions", "vendor_statement")
    )


def suggest_postgresql(incident: Incident, limit: int = 5) -> list[Suggestion]:
    found: dict[int, Suggestion] = {}
    _add_same_transcript(incident, found)

    title, instruction = incident.title[:COMPARED_CHARS], incident.instruction[:COMPARED_CHARS]
    similar_text = Q(title__trigram_word_similar=title) | Q(instruction__trigram_word_similar=instruction)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # SET LOCAL: only this transaction's %> comparisons use the lower threshold.
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(WORD_SIMILARITY_THRESHOLD)]
            )
        # The same system first, then any: so many look-alikes from elsewhere cannot crowd them out.
        for scope in (_same_system(incident), Q()):
            similar = _closest(
                candidates_for(incident).filter(scope).filter(similar_text),
                title_similarity=TrigramWordSimilarity(title, "title"),
                instruction_similarity=TrigramWordSimilarity(instruction, "instruction"),
            )
            for candidate in similar:
                suggestion = _entry(incident, candidate, found)
                if not suggestion.text_compared:
                    suggestion.text_compared = True
                    _add_text(
                        suggestion, title=candidate.title_similarity, instruction=candidate.instruction_similarity
                    )

    words = significant_words(f"{incident.title} {incident.action_taken}")
    if incident.ai_system_id is not None and words:
        # Full text within the same linked system: the GIN index over search_vector() and the
        # ai_system index find the rows, then the closest are ranked.
        query = SearchQuery(" or ".join(words), config="english", search_type="websearch")
        sharing = _closest(
            candidates_for(incident)
            .filter(ai_system_id=incident.ai_system_id)
            .annotate(search=Incident.search_vector())
            .filter(search=query),
            rank=SearchRank(Incident.search_vector(), query),
        )
        for candidate in sharing[: CANDIDATES // 2]:
            suggestion = _entry(incident, candidate, found)
            suggestion.add(SHARED_WORDS * min(1.0, candidate.rank * 10), "Shares words about what the AI did")

    return _best(found, limit)


def _closest(matching: QuerySet[Incident], **scores) -> list[Incident]:
    """The CANDIDATES best of ``matching`` by ``scores`` (best first), scoring at most MATCHED rows.

    Ranking needs a score for every matching row; when thousands of reports read alike, the inner
    LIMIT stops the index scan after MATCHED of them (all above the similarity threshold anyway).
    """
    bounded = matching.order_by().values("pk")[:MATCHED]  # unordered: the scan may stop early
    order = [f"-{name}" for name in scores]
    return list(candidates_for_pks(bounded).annotate(**scores).order_by(*order, "-id")[:CANDIDATES])


def _same_system(incident: Incident) -> Q:
    same = Q(system_name_reported__iexact=incident.system_name_reported.strip())
    if incident.ai_system_id is not None:
        same |= Q(ai_system_id=incident.ai_system_id)
    return same


def suggest_simple(incident: Incident, limit: int = 5) -> list[Suggestion]:
    """The portable fallback: the same system, and at least one of a few distinctive words in common."""
    found: dict[int, Suggestion] = {}
    _add_same_transcript(incident, found)

    same_system = _same_system(incident)
    words = significant_words(f"{incident.title} {incident.instruction}")[:5]
    shared = Q()
    for word in words:
        shared |= Q(title__icontains=word) | Q(instruction__icontains=word)
    matching = candidates_for(incident).filter(same_system).filter(shared).order_by("-created", "-id")
    candidates = candidates_for_pks(matching.values("pk")[:CANDIDATES]).order_by("-created", "-id")

    mine = set(significant_words(f"{incident.title} {incident.instruction}", limit=None))
    for candidate in candidates:
        suggestion = _entry(incident, candidate, found)
        _add_text(
            suggestion,
            title=_overlap(set(significant_words(incident.title, limit=None)), candidate.title),
            instruction=_overlap(mine, candidate.instruction),
        )
    return _best(found, limit)


def significant_words(text: str, limit: int | None = 12) -> list[str]:
    """Distinct longer words, longest first: the ones most likely to tell incidents apart."""
    words = {w for w in re.findall(r"[^\W\d_]{4,}", text.lower()) if w not in STOPWORDS}
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return ordered if limit is None else ordered[:limit]


def _overlap(mine: set[str], text: str) -> float:
    theirs = set(significant_words(text, limit=None))
    if not mine or not theirs:
        return 0.0
    return len(mine & theirs) / len(mine | theirs)


def _add_same_transcript(incident: Incident, found: dict[int, Suggestion]) -> None:
    hashes = list(Transcript.objects.filter(incident=incident).values_list("sha256", flat=True))
    if not hashes:
        return
    # Served by the sha256 index. A duplicate with the same transcript points to its canonical instead.
    rows = (
        Transcript.objects.filter(sha256__in=hashes)
        .exclude(incident=incident)
        .values_list("incident_id", "incident__duplicate_of_id", "sha256")[:CANDIDATES]
    )
    ids: dict[int, str] = {}
    for incident_id, canonical_id, sha256 in rows:
        ids.setdefault(canonical_id or incident_id, sha256)
    ids.pop(incident.pk, None)
    for candidate in candidates_for_pks(candidates_for(incident).filter(pk__in=ids).values("pk")):
        suggestion = _entry(incident, candidate, found)
        suggestion.add(SAME_TRANSCRIPT, f"Identical transcript (SHA-256 {ids[candidate.pk][:12]}…)")


def _entry(incident: Incident, candidate: Incident, found: dict[int, Suggestion]) -> Suggestion:
    """The candidate's suggestion, created on first sight with the same-system comparison made once."""
    suggestion = found.get(candidate.pk)
    if suggestion is None:
        suggestion = found[candidate.pk] = Suggestion(candidate)
    if not suggestion.system_compared:
        suggestion.system_compared = True
        _add_same_system(incident, candidate, suggestion)
    return suggestion


def _add_same_system(incident: Incident, candidate: Incident, suggestion: Suggestion) -> None:
    if incident.ai_system_id is not None and candidate.ai_system_id == incident.ai_system_id:
        suggestion.add(SAME_SYSTEM, f"Same AI system ({candidate.ai_system})")
    elif candidate.system_name_reported.strip().casefold() == incident.system_name_reported.strip().casefold():
        suggestion.add(SAME_SYSTEM, f"Same AI system as reported (“{candidate.system_name_reported}”)")


def _add_text(suggestion: Suggestion, *, title: float, instruction: float) -> None:
    if title >= 0.3:
        suggestion.add(TEXT * title, f"Similar title ({round(title * 100)}%)")
    if instruction >= 0.3:
        suggestion.add(TEXT * instruction, f"Similar instruction ({round(instruction * 100)}%)")


def _best(found: dict[int, Suggestion], limit: int) -> list[Suggestion]:
    scored = [s for s in found.values() if s.reasons]
    return sorted(scored, key=lambda s: (-s.score, -s.incident.pk))[:limit]
