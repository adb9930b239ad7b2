"""The registry's domain: vendors, AI systems, incidents, their evidence and their history."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from incidents import severity

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class Vendor(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    website = models.URLField(blank=True)
    disclosure_days = models.PositiveSmallIntegerField(
        default=90, help_text="Days between notifying this vendor and publishing without their answer."
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VendorMembership(models.Model):
    """A user who speaks for a vendor: they see its incidents from notification on, never reporters."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_membership")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="memberships")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} at {self.vendor}"


class AISystem(models.Model):
    """A canonical product or model; incidents name it as typed, and staff link them here."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="systems")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["vendor__name", "name"]
        verbose_name = "AI system"
        constraints = [models.UniqueConstraint(fields=["vendor", "slug"], name="aisystem_unique_slug_per_vendor")]

    def __str__(self) -> str:
        return f"{self.vendor.name} {self.name}"


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "In triage"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"
    VENDOR_NOTIFIED = "vendor_notified", "Vendor notified"
    VENDOR_RESPONDED = "vendor_responded", "Vendor responded"
    PUBLISHED = "published", "Published"
    RESOLVED = "resolved", "Resolved"


PUBLIC_STATUSES = (Status.PUBLISHED, Status.RESOLVED)


def severity_rank() -> Coalesce:
    """The score, or -1 when unrated: "most severe first" puts unrated incidents last.

    The triage queue sorts on it and its partial index (Incident.Meta.indexes) is built on this very
    expression; PostgreSQL uses an expression index only for the identical expression.
    """
    return Coalesce(
        "severity_score", Value(Decimal("-1")), output_field=models.DecimalField(max_digits=3, decimal_places=1)
    )


class InstructionSource(models.TextChoices):
    SYSTEM_PROMPT = "system_prompt", "System prompt"
    USER_TURN = "user_turn", "User turn"
    OPERATOR_POLICY = "operator_policy", "Operator policy"
    CONFIG_FILE = "config_file", "Configuration file"
    TOOL_DESCRIPTION = "tool_description", "Tool description"
    CODE_COMMENT = "code_comment", "Code comment"


class Reversibility(models.TextChoices):
    REVERSIBLE = "reversible", "Could be undone"
    COSTLY = "costly", "Could be undone, at a cost"
    IRREVERSIBLE = "irreversible", "Could not be undone"
    UNKNOWN = "unknown", "Not known"


class Acknowledgement(models.TextChoices):
    YES = "yes", "Yes, it acknowledged the instruction first"
    NO = "no", "No"
    UNKNOWN = "unknown", "Not known"


class Context(models.TextChoices):
    CHAT_ASSISTANT = "chat_assistant", "Chat assistant"
    CODING_AGENT = "coding_agent", "Coding agent"
    BROWSER_AGENT = "browser_agent", "Browser / computer-use agent"
    EMAIL_AGENT = "email_agent", "Email / productivity agent"
    MULTI_AGENT = "multi_agent", "Multi-agent system"
    OTHER = "other", "Other"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    PILOT = "pilot", "Pilot"
    EVALUATION = "evaluation", "Evaluation / red-team (lab demonstration)"


class ReporterType(models.TextChoices):
    END_USER = "end_user", "End user"
    DEPLOYER = "deployer", "Deployer"
    RESEARCHER = "researcher", "Researcher"
    VENDOR = "vendor", "Vendor self-report"
    MONITOR = "monitor", "Automated monitor"


class IntakeChannel(models.TextChoices):
    WEB = "web", "Web form"
    API = "api", "API"
    MONITOR = "monitor", "Monitor"


class OverrideType(models.TextChoices):
    PROHIBITED_ACTION = "prohibited_action", "Prohibited action performed"
    SCOPE_EXCEEDED = "scope_exceeded", "Scope exceeded"
    CONFIRMATION_BYPASSED = "confirmation_bypassed", "Confirmation bypassed"
    SHUTDOWN_RESISTED = "shutdown_resisted", "Shutdown or interruption resisted"
    SAFEGUARD_EVADED = "safeguard_evaded", "Safeguard evaded"
    DECEPTION = "deception", "Deception about actions"
    COERCION = "coercion", "Coercion or manipulation"
    REWARD_HACKING = "reward_hacking", "Reward hacking / specification gaming"
    SELF_PRESERVATION = "self_preservation", "Self-preservation or self-propagation"
    DATA_EXFILTRATION = "data_exfiltration", "Data exfiltration or privacy breach"
    OTHER = "other", "Other"


# Stored values are the band names ("critical"), labels the human words.
SeverityBand = models.TextChoices(
    "SeverityBand", [(band.upper(), (band, label)) for band, label in severity.BAND_LABELS.items()]
)


class PublicIdSequence(models.Model):
    """One counter per year, so public ids read AIO-<year>-<n> and are never reused."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"AIO-{self.year}: {self.last} issued"

    @classmethod
    def next_public_id(cls, year: int) -> str:
        # The conditional UPDATE takes the row lock, so concurrent reports never share a number.
        with transaction.atomic():
            cls.objects.get_or_create(year=year)
            cls.objects.filter(year=year).update(last=F("last") + 1)
            number = cls.objects.get(year=year).last
        return f"AIO-{year}-{number:05d}"


class IncidentQuerySet(models.QuerySet["Incident"]):
    def published(self) -> IncidentQuerySet:
        return self.filter(status__in=PUBLIC_STATUSES)

    def for_list(self) -> IncidentQuerySet:
        """What list pages and feeds show: joined in one query, without the long text fields."""
        return self.select_related("ai_system", "vendor").defer(
            "instruction", "action_taken", "harms", "references", "tool_permissions"
        )

    def search(self, text: str) -> IncidentQuerySet:
        from django.db import connection

        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery

            # Same expression as the GIN index below, so PostgreSQL uses it.
            return self.annotate(search=Incident.search_vector()).filter(
                search=SearchQuery(text, config="english", search_type="websearch")
            )
        return self.filter(Q(title__icontains=text) | Q(instruction__icontains=text) | Q(action_taken__icontains=text))


class Incident(models.Model):
    public_id = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    instruction = models.TextField(help_text="The constraint the AI was given, quoted verbatim.")
    instruction_source = models.CharField(max_length=20, choices=InstructionSource.choices)
    action_taken = models.TextField(help_text="What the AI did instead.")
    reversibility = models.CharField(max_length=20, choices=Reversibility.choices)
    acknowledged = models.CharField(max_length=10, choices=Acknowledgement.choices)
    context = models.CharField(max_length=20, choices=Context.choices)
    environment = models.CharField(max_length=20, choices=Environment.choices)
    system_name_reported = models.CharField("AI system (as reported)", max_length=200)
    system_version_reported = models.CharField("version (as reported)", max_length=100, blank=True)
    # Staff link the typed system to a canonical one; vendor is copied so lists filter on one index.
    ai_system = models.ForeignKey(AISystem, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents")
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents", editable=False
    )
    agent_framework = models.CharField(max_length=200, blank=True)
    tool_permissions = models.TextField(blank=True)
    occurred_on = models.DateField()
    reporter_type = models.CharField(max_length=20, choices=ReporterType.choices)
    intake_channel = models.CharField(max_length=10, choices=IntakeChannel.choices, default=IntakeChannel.WEB)
    override_type = models.CharField(max_length=30, choices=OverrideType.choices)
    secondary_override_types = models.JSONField(default=list, blank=True)
    harms = models.TextField(blank=True)
    references = models.TextField(blank=True, help_text="One URL per line.")

    reporter_severity_vector = models.CharField(max_length=60, blank=True)
    triager_severity_vector = models.CharField(max_length=60, blank=True)
    vendor_severity_vector = models.CharField(max_length=60, blank=True)
    # The effective rating (the triager's once given, else the reporter's), kept in columns so
    # lists filter and sort on an index instead of parsing vectors.
    severity_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True, editable=False)
    severity_band = models.CharField(max_length=10, choices=SeverityBand.choices, blank=True, editable=False)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED, editable=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_incidents"
    )
    # A duplicate is kept as a supplemental report of its canonical incident, never thrown away.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supplemental_reports", editable=False
    )
    is_reproduction = models.BooleanField(
        default=False, help_text="This supplemental report is a confirmed independent reproduction."
    )
    # Maintained when duplicates are merged, so pages never count them per row.
    report_count = models.PositiveIntegerField(default=1, editable=False)
    reproduction_count = models.PositiveIntegerField(default=0, editable=False)
    # Coordinated disclosure.
    vendor_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    disclosure_deadline = models.DateTimeField(null=True, blank=True, editable=False)
    first_vendor_response_at = models.DateTimeField(null=True, blank=True, editable=False)
    vendor_statement = models.TextField(blank=True, help_text="The vendor's public statement.")
    receipt_token = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        indexes = [
            # Public lists (web, API, feed): newest published first, public rows only, in the lists' exact
            # order (id breaks ties), so a first page reads 51 index entries and a cursor's bound on
            # published_at (api/pagination.py) makes any later page an index range. Per filter too: an
            # index over every row would put the unpublished ones (NULL, the largest value) first, to be
            # read and skipped on every public page.
            models.Index(
                fields=["-published_at", "-id"],
                name="incident_public_published",
                condition=Q(status__in=["published", "resolved"]),
            ),
            *(
                models.Index(
                    fields=[field, "-published_at", "-id"],
                    name=f"incident_public_{name}",
                    condition=Q(status__in=["published", "resolved"]),
                )
                for field, name in [
                    ("vendor", "vendor"),
                    ("override_type", "type"),
                    ("environment", "env"),
                    ("context", "context"),
                    ("severity_band", "band"),
                ]
            ),
            # The same order over every incident, for staff and vendor lists (unpublished ones first). A
            # vendor's visibility (status, vendor) is tested on the index entries, not the table rows.
            models.Index(fields=["-published_at", "-id"], include=["status", "vendor"], name="incident_published"),
            models.Index(fields=["status", "-published_at"], name="incident_status_published"),
            # Incremental sync (modified_since) and the staff queue.
            models.Index(fields=["modified"], name="incident_modified"),
            models.Index(fields=["status", "created"], name="incident_status_created"),
            # The triage queue's default page: open incidents, oldest first.
            models.Index(
                fields=["created", "id"],
                name="incident_open_created",
                condition=Q(status__in=["submitted", "triage", "confirmed", "vendor_notified", "vendor_responded"]),
            ),
            # The triage queue sorted most severe first (?sort=severity): the same open rows, in that order.
            models.Index(
                severity_rank().desc(),
                "created",
                "id",
                name="incident_open_severity",
                condition=Q(status__in=["submitted", "triage", "confirmed", "vendor_notified", "vendor_responded"]),
            ),
            models.Index(fields=["assignee", "status"], name="incident_assignee_status"),
            # The vendor portal's list, newest first.
            models.Index(fields=["vendor", "-created"], name="incident_vendor_created"),
            # The scheduled publication of overdue incidents.
            models.Index(fields=["status", "disclosure_deadline"], name="incident_status_deadline"),
            # The full-text GIN index over search_vector() exists on PostgreSQL only: see
            # migration 0002 (SQLite cannot build it and searches with LIKE instead).
        ]

    def __str__(self) -> str:
        return f"{self.public_id}: {self.title}"

    # Fields only incidents.workflow writes; an ordinary save of a stale copy must not undo a transition.
    WORKFLOW_FIELDS = frozenset(
        {
            "status",
            "published_at",
            "duplicate_of",
            "report_count",
            "reproduction_count",
            "vendor_notified_at",
            "disclosure_deadline",
            "first_vendor_response_at",
        }
    )

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in self.WORKFLOW_FIELDS
            ]
        if not self.public_id:
            self.public_id = PublicIdSequence.next_public_id(self.created.year)
        if not self.receipt_token:
            self.receipt_token = secrets.token_urlsafe(32)
        self.vendor_id = self.ai_system.vendor_id if self.ai_system_id else None
        self.severity_score, self.severity_band = self._effective_severity()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("incidents:detail", args=[self.public_id])

    def get_receipt_url(self) -> str:
        return reverse("incidents:receipt", args=[self.receipt_token])

    def _effective_severity(self) -> tuple[Decimal | None, str]:
        text = self.triager_severity_vector or self.reporter_severity_vector
        if not text:
            return None, ""
        vector = severity.SeverityVector.parse(text)
        return vector.score, vector.band

    @staticmethod
    def search_vector() -> SearchVector:
        return SearchVector("title", "instruction", "action_taken", config="english")

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def reporter_severity(self) -> severity.SeverityVector | None:
        return severity.SeverityVector.parse(self.reporter_severity_vector) if self.reporter_severity_vector else None

    @property
    def triager_severity(self) -> severity.SeverityVector | None:
        return severity.SeverityVector.parse(self.triager_severity_vector) if self.triager_severity_vector else None

    @property
    def vendor_severity(self) -> severity.SeverityVector | None:
        return severity.SeverityVector.parse(self.vendor_severity_vector) if self.vendor_severity_vector else None

    @property
    def reference_urls(self) -> list[str]:
        return [line.strip() for line in self.references.splitlines() if line.strip()]

    def secondary_override_labels(self) -> list[str]:
        return [OverrideType(value).label for value in self.secondary_override_types]

    def add_reporter_note(self, text: str) -> ReporterNote:
        """The reporter adds information through their receipt page; the audit trail records it."""
        with transaction.atomic():
            note = self.reporter_notes.create(text=text)
            self.events.create(action=IncidentEvent.Action.REPORTER_NOTE, actor_label="Reporter", public=False)
            Incident.objects.filter(pk=self.pk).update(modified=timezone.now())
        return note


class ReporterContact(models.Model):
    """Who filed an incident: confidential, shown to staff only, erasable on request."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="reporter_contact")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Reporter of {self.incident.public_id}"


class ReporterNote(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reporter_notes")
    text = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return f"Note on {self.incident_id} at {self.created:%Y-%m-%d %H:%M}"


def _new_secret() -> str:
    return secrets.token_hex(32)


def transcript_upload_path(transcript: Transcript, filename: str) -> str:
    # The original name is kept in a field; the stored name reveals nothing about the reporter.
    return f"transcripts/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.raw"


class Transcript(models.Model):
    """The evidence: the raw upload kept unchanged (private), and its normalised turns."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="transcripts")
    raw = models.FileField(upload_to=transcript_upload_path)
    original_filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=40)
    turns = models.JSONField(default=list)
    warnings = models.JSONField(default=list, blank=True)
    # What anyone but staff sees: the turns with personal data and secrets replaced by placeholders.
    redacted_turns = models.JSONField(default=list, editable=False)
    redaction_terms = models.JSONField(
        default=list, blank=True, help_text="Names and other terms to redact, besides what is detected."
    )
    redaction_counts = models.JSONField(default=dict, editable=False)
    # Indexes into turns: where the constraint was given and where it was broken.
    instruction_turn = models.PositiveIntegerField(null=True, blank=True)
    violation_turns = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return f"Transcript {self.sha256[:12]} of {self.incident.public_id}"

    def save(self, *args, **kwargs) -> None:
        self.redact()
        super().save(*args, **kwargs)

    def redact(self) -> None:
        """Recompute the redacted form; it is derived from the turns and terms, never edited."""
        from incidents.redaction import redact_turns

        redaction = redact_turns(self.turns, terms=self.redaction_terms)
        self.redacted_turns, self.redaction_counts = redaction.turns, redaction.counts


class IncidentEvent(models.Model):
    """Append-only history: every status change and every other act on an incident.

    Rows are never updated or deleted; the actor's label is copied so the row outlives the user.
    """

    class Action(models.TextChoices):
        SUBMITTED = "incident.submitted", "Submitted"
        TRANSITION = "incident.transition", "Status changed"
        EDITED = "incident.edited", "Edited"
        SYSTEM_LINKED = "incident.system_linked", "Linked to AI system"
        ASSIGNED = "incident.assigned", "Assigned"
        MERGED = "incident.duplicate_merged", "Duplicate merged in"
        DEADLINE_EXTENDED = "disclosure.deadline_extended", "Disclosure deadline extended"
        VENDOR_RESPONSE = "vendor.responded", "Vendor answered"
        COMMENT = "staff.comment", "Internal note"
        QUESTION = "staff.question", "Question to the reporter"
        REPORTER_NOTE = "reporter.note_added", "Reporter added information"
        REPORTER_ANSWER = "reporter.answered", "Reporter answered"
        CONTACT_ERASED = "reporter.contact_erased", "Reporter's contact details erased"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=40, choices=Action.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Shown on the public timeline once the incident is published.
    public = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["incident", "created"], name="event_incident_created")]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.action} {self.to_status}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Incident history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Incident history is append-only.")


def actor_label(user: AbstractBaseUser | None) -> str:
    if user is None or not user.is_authenticated:
        return "System"
    return user.get_full_name() or user.get_username()


class Comment(models.Model):
    """The triage thread: internal notes, questions to the reporter, and the reporter's answers."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal note"
        QUESTION = "question", "Question to the reporter"
        ANSWER = "answer", "Reporter's answer"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="comments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    text = models.TextField()
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["incident", "created"], name="comment_incident_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.incident_id}"


class VendorResponse(models.Model):
    """What a vendor answered about an incident. Statements become public when it is published."""

    class Kind(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DISPUTED = "disputed", "Disputed"
        FIXED = "fixed", "Fixed"
        WONT_FIX = "wont_fix", "Won't fix"
        STATEMENT = "statement", "Public statement"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="vendor_responses")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="responses")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    text = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.vendor}: {self.get_kind_display()} on {self.incident_id}"


class OutboxMessage(models.Model):
    """Work that must not be lost (emails, webhooks), written in the transaction that caused it.

    A relay task delivers it and a periodic sweep retries whatever a broker outage left behind;
    a worker claims a row with a conditional UPDATE so two workers never send the same message.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook delivery"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    payload = models.JSONField()
    # Names a notification that goes out once only, whoever it is sent to (see outbox.already_enqueued).
    dedupe = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["available_at"], name="outbox_pending", condition=models.Q(sent_at__isnull=True)),
            models.Index(fields=["dedupe"], name="outbox_dedupe", condition=~models.Q(dedupe="")),
            models.Index(fields=["sent_at"], name="outbox_sent", condition=models.Q(sent_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class WebhookEndpoint(models.Model):
    """A URL that receives signed incident events: a vendor's, or an analyst's tool's (with filters)."""

    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, default=_new_secret, editable=False)
    description = models.CharField(max_length=200, blank=True)
    # For analysts' tools: the same filters as the public list (vendor, override_type, …).
    filters = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["endpoint", "-created"], name="delivery_endpoint_created")]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"


class ApiToken(models.Model):
    """An API token: only its HMAC is stored; the prefix is shown so people can tell tokens apart."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyKey(models.Model):
    """A replayable answer to a POST, kept at least 24 hours (the Stripe model)."""

    owner = models.CharField(max_length=100, help_text="The token prefix, or the client address for anonymous calls.")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_unique_owner_key")]
        indexes = [models.Index(fields=["created"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.owner}:{self.key}"


class StatsRollup(models.Model):
    """Published incidents counted per month and per every dimension the statistics break down by.

    Rebuilt from the incidents table (after publications and nightly); statistics read only this,
    so no request ever aggregates the big table.
    """

    month = models.DateField()
    vendor = models.ForeignKey(Vendor, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    ai_system = models.ForeignKey(
        AISystem, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    override_type = models.CharField(max_length=30, choices=OverrideType.choices)
    environment = models.CharField(max_length=20, choices=Environment.choices)
    context = models.CharField(max_length=20, choices=Context.choices)
    severity_band = models.CharField(max_length=10, blank=True)
    intake_channel = models.CharField(max_length=10, choices=IntakeChannel.choices)
    reporter_type = models.CharField(max_length=20, choices=ReporterType.choices)
    incidents = models.PositiveIntegerField()
    reproductions = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month"], name="rollup_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.incidents}"


class ResponseTimeRollup(models.Model):
    """Vendor response times as a histogram of days from notification to first answer.

    Medians come from a few rows instead of every incident.
    """

    month = models.DateField()
    vendor = models.ForeignKey(Vendor, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    days = models.PositiveSmallIntegerField()
    incidents = models.PositiveIntegerField()
    before_deadline = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["month", "vendor"], name="response_rollup_month_vendor")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.vendor_id}: {self.incidents} in {self.days} days"


class StatsRefresh(models.Model):
    """When the rollups were last rebuilt: the statistics pages say so."""

    finished_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField()
    rows = models.PositiveIntegerField()

    class Meta:
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"Refreshed {self.finished_at:%Y-%m-%d %H:%M}"


class Subscription(models.Model):
    """An analyst follows a vendor, an AI system or an override type and gets an email digest."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", "As they are published"
        WEEKLY = "weekly", "Weekly digest"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    ai_system = models.ForeignKey(AISystem, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    override_type = models.CharField(max_length=30, choices=OverrideType.choices, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(vendor__isnull=False) | Q(ai_system__isnull=False) | ~Q(override_type=""),
                name="subscription_follows_something",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.vendor or self.ai_system or self.get_override_type_display()}"


class DatasetSnapshot(models.Model):
    """A dated, citable download of all published incidents, with its manifest."""

    created = models.DateTimeField(default=timezone.now)
    incidents = models.PositiveIntegerField()
    csv_file = models.FileField(upload_to="datasets/")
    jsonl_file = models.FileField(upload_to="datasets/")
    manifest = models.JSONField(help_text="File names, sizes and SHA-256 digests.")

    class Meta:
        get_latest_by = "created"

    def __str__(self) -> str:
        return f"Dataset of {self.created:%Y-%m-%d}"
