"""Forms for the public pages: the report form with its severity calculator, and the receipt note."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils import timezone
from django_otp import devices_for_user, user_has_device
from django_otp.forms import OTPAuthenticationForm

from incidents import severity, staging, transcripts
from incidents.models import Incident, OverrideType
from incidents.submission import Evidence
from incidents.transcripts import ParsedTranscript, TranscriptError, megabytes

BLANK = [("", "— choose —")]


class TurnIndexesField(forms.Field):
    """Turn numbers ticked in the transcript preview (checkboxes sharing one name)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return sorted({int(item) for item in value or []})
        except (TypeError, ValueError):
            raise forms.ValidationError("Turn numbers must be whole numbers.") from None


class SeverityForm(forms.Form):
    """The calculator: one choice per metric → a vector, its score and band. All or none."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for metric in severity.METRICS:
            self.fields[f"severity_{metric.key}"] = forms.ChoiceField(
                label=metric.label,
                help_text=metric.help_text,
                choices=BLANK + list(metric.values),
                required=False,
            )

    def metric_fields(self) -> list[forms.BoundField]:
        return [self[f"severity_{metric.key}"] for metric in severity.METRICS]

    def clean(self) -> dict:
        cleaned = super().clean()
        chosen = {m.key: cleaned.get(f"severity_{m.key}") for m in severity.METRICS}
        missing = [m for m in severity.METRICS if not chosen[m.key]]
        if len(missing) == len(severity.METRICS):
            cleaned["severity_vector"] = None
        elif missing:
            for metric in missing:
                self.add_error(
                    f"severity_{metric.key}",
                    "Choose a value here too, or leave every severity question blank.",
                )
        else:
            cleaned["severity_vector"] = severity.SeverityVector(**chosen)
        return cleaned


class ReportForm(forms.ModelForm):
    """What a reporter tells us. Optional contact details are kept apart and never shown publicly."""

    transcript_text = forms.CharField(
        label="Transcript (paste)",
        required=False,
        strip=False,  # the raw evidence is kept exactly as pasted
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="Paste the conversation with speaker labels at the start of lines, such as “User:” and “Assistant:”.",
    )
    transcript_file = forms.FileField(
        label="…or upload a transcript file",
        required=False,
        help_text="Text, JSON or an archive such as an Inspect .eval log, up to "
        f"{megabytes(settings.TRANSCRIPT_MAX_BYTES)}. "
        "The original file is kept unchanged and only staff can see it.",
    )
    transcript_format = forms.ChoiceField(
        label="Transcript format",
        choices=[("", "Detect automatically"), *transcripts.format_choices()],
        required=False,
    )
    transcript_sample = forms.CharField(
        label="Sample or conversation",
        required=False,
        max_length=200,
        help_text="For files holding several (eval logs, exports): which one. The first when left empty.",
    )
    redaction_terms = forms.CharField(
        label="Also redact these words (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5_000,
        help_text="One per line: names, addresses, anything else that identifies someone. Emails, phone "
        "numbers, card numbers, IP addresses and secrets are redacted automatically.",
    )
    instruction_turn = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    violation_turns = TurnIndexesField(required=False)
    reporter_email = forms.EmailField(
        label="Your email (optional)",
        required=False,
        help_text="Only staff see it. We use it to tell you when the status changes.",
    )
    # Bots fill every field; people never see this one.
    website = forms.CharField(required=False, label="Leave this empty")

    class Meta:
        model = Incident
        fields = [
            "title",
            "system_name_reported",
            "system_version_reported",
            "instruction",
            "instruction_source",
            "action_taken",
            "reversibility",
            "acknowledged",
            "override_type",
            "secondary_override_types",
            "context",
            "environment",
            "occurred_on",
            "harms",
            "agent_framework",
            "tool_permissions",
            "reporter_type",
            "references",
        ]
        labels = {
            "title": "Short title",
            "instruction": "The instruction the AI was given",
            "instruction_source": "Where the instruction was given",
            "action_taken": "What the AI did instead",
            "reversibility": "Could it be undone?",
            "acknowledged": "Did the AI acknowledge the instruction before breaking it?",
            "override_type": "Kind of override",
            "context": "Deployment context",
            "occurred_on": "When did it happen?",
            "reporter_type": "You are",
            "references": "Links (optional)",
        }
        help_texts = {
            "title": "One line, e.g. “Email agent deleted mail after being told to keep it”.",
            "instruction": "Quote it word for word.",
            "system_name_reported": "As you know it, e.g. “Claude Opus 4” or “ChatGPT agent”.",
            "harms": "Who or what was harmed, and how. Leave out names and contact details.",
            "references": "One URL per line: posts, issues, papers about this incident.",
        }
        widgets = {
            "instruction": forms.Textarea(attrs={"rows": 3}),
            "action_taken": forms.Textarea(attrs={"rows": 5}),
            "harms": forms.Textarea(attrs={"rows": 3}),
            "tool_permissions": forms.Textarea(attrs={"rows": 2}),
            "references": forms.Textarea(attrs={"rows": 2}),
            "occurred_on": forms.DateInput(attrs={"type": "date"}),
        }

    secondary_override_types = forms.MultipleChoiceField(
        label="Other kinds that apply (optional)",
        choices=OverrideType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    # Text fields are unbounded in the database; the form bounds what one report may hold.
    LIMITS = {
        "instruction": 10_000,
        "action_taken": 20_000,
        "harms": 10_000,
        "tool_permissions": 5_000,
        "references": 5_000,
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in self.LIMITS.items():
            self.fields[name].max_length = limit
            self.fields[name].validators.append(MaxLengthValidator(limit))
            self.fields[name].widget.attrs["maxlength"] = limit
        self.fields["transcript_text"].validators.append(ProhibitNullCharactersValidator())
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.parsed_transcript: ParsedTranscript | None = None
        # The pasted text as bytes, or the file itself: parsed and stored from the file, never read whole.
        self.raw_transcript: bytes | File | None = None
        self.transcript_filename = ""

    def clean_occurred_on(self):
        occurred_on = self.cleaned_data["occurred_on"]
        if occurred_on > timezone.localdate():
            raise forms.ValidationError("This date is in the future; give the day it happened.")
        return occurred_on

    def clean_secondary_override_types(self) -> list[str]:
        return list(self.cleaned_data["secondary_override_types"])

    def clean_transcript_file(self):
        upload = self.cleaned_data.get("transcript_file")
        if upload and upload.size > settings.TRANSCRIPT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {megabytes(upload.size)}; the limit is {megabytes(settings.TRANSCRIPT_MAX_BYTES)}."
            )
        return upload

    def clean_transcript_text(self) -> str:
        text = self.cleaned_data["transcript_text"]
        if len(text.encode()) > settings.TRANSCRIPT_MAX_BYTES:
            # Not echoed back: a page holding megabytes of text helps nobody.
            self.data = self.data.copy()
            self.data["transcript_text"] = ""
            raise forms.ValidationError(
                f"The pasted transcript is larger than {megabytes(settings.TRANSCRIPT_MAX_BYTES)}. "
                "Paste the part that shows the instruction and the override, or upload the file."
            )
        return text

    def clean_redaction_terms(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["redaction_terms"].splitlines() if line.strip()]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("website"):
            raise forms.ValidationError("This report could not be accepted.")
        upload = self.transcript_upload(cleaned)
        text = cleaned.get("transcript_text", "")
        if upload and text.strip():
            self.add_error("transcript_file", "Paste a transcript or upload a file, not both.")
            return cleaned
        try:
            if upload:
                self.raw_transcript, self.transcript_filename = upload
            elif text.strip():
                self.raw_transcript = text.encode()
            if self.raw_transcript is not None:
                self.parsed_transcript = transcripts.parse(
                    self.raw_transcript,
                    cleaned.get("transcript_format") or None,
                    sample=cleaned.get("transcript_sample") or None,
                    filename=self.transcript_filename,
                )
        except TranscriptError as exc:
            self.add_error("transcript_file" if upload else "transcript_text", str(exc))
        self._check_marks(cleaned)
        return cleaned

    def transcript_upload(self, cleaned: dict) -> tuple[File, str] | None:
        """The transcript file and its original name, when one came with the form."""
        upload = cleaned.get("transcript_file")
        return (upload, upload.name) if upload else None

    def _check_marks(self, cleaned: dict) -> None:
        if self.parsed_transcript is None:
            cleaned["instruction_turn"], cleaned["violation_turns"] = None, []
            return
        count = len(self.parsed_transcript.turns)
        marked = [cleaned.get("instruction_turn"), *cleaned.get("violation_turns", [])]
        if any(index is not None and index >= count for index in marked):
            self.add_error(None, f"A marked turn does not exist: the transcript has turns 0 to {count - 1}.")

    def evidence(self) -> Evidence | None:
        """The transcript as the reporter gave it, with their marks and redaction terms."""
        if self.parsed_transcript is None or self.raw_transcript is None:
            return None
        return Evidence(
            raw=self.raw_transcript,
            parsed=self.parsed_transcript,
            filename=self.transcript_filename,
            instruction_turn=self.cleaned_data.get("instruction_turn"),
            violation_turns=self.cleaned_data.get("violation_turns", []),
            redaction_terms=self.cleaned_data.get("redaction_terms", []),
        )

    def marks(self) -> tuple[int | None, list[int]]:
        cleaned = getattr(self, "cleaned_data", {})
        return cleaned.get("instruction_turn"), cleaned.get("violation_turns", [])

    def redacted_preview(self) -> list[dict]:
        if self.parsed_transcript is None:
            return []
        from incidents.redaction import redact_turns

        terms = getattr(self, "cleaned_data", {}).get("redaction_terms", [])
        return redact_turns(self.parsed_transcript.turns, terms=terms).turns


class ReportPageForm(ReportForm):
    """The report form on the web page, which comes back after a preview, a score or a field error.

    A browser never fills a file input again, so a file that was read is staged on the server (see
    ``incidents.staging``) and the page carries a signed token naming it. A later post without a new file uses
    the staged bytes; a new file replaces them. The API has no such round trip and uses ``ReportForm``.
    """

    transcript_staged = forms.CharField(required=False, widget=forms.HiddenInput)
    transcript_staged_remove = forms.BooleanField(
        label="Remove this file",
        required=False,
        help_text="Tick this to paste a transcript instead, or to send none.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.staged_upload: staging.StagedUpload | None = None  # the staged file this post uses
        self._staged_file: File | None = None

    def transcript_upload(self, cleaned: dict) -> tuple[File, str] | None:
        chosen = super().transcript_upload(cleaned)
        token = cleaned.get("transcript_staged")
        if not token or self["transcript_file"].data or cleaned.get("transcript_staged_remove"):
            return chosen  # a staged file that was replaced or removed goes when the page is answered
        try:
            self.staged_upload = staging.load(token)
            self._staged_file = self.staged_upload.open()
        except staging.StagingError as exc:
            self.staged_upload = None
            self.add_error("transcript_file", str(exc))
            return None
        return self._staged_file, self.staged_upload.filename

    def keep_upload(self) -> None:
        """Before the page is shown again: stage a file that was read, so that the next post can use it, and
        delete a staged file that was replaced or removed. The page names the staged file in a hidden field."""
        if not self.is_bound:
            return
        if self._staged_file is not None:
            self._staged_file.close()  # the next post opens it again
        elif self.parsed_transcript is not None and isinstance(self.raw_transcript, UploadedFile):
            self.staged_upload = staging.stage(self.raw_transcript, self.transcript_filename)
        previous = self.cleaned_data.get("transcript_staged")
        if previous and previous != getattr(self.staged_upload, "token", None):
            staging.discard(previous)
        self.data = self.data.copy()
        self.data[self.add_prefix("transcript_staged")] = self.staged_upload.token if self.staged_upload else ""
        self.data.pop(self.add_prefix("transcript_staged_remove"), None)
        if self.staged_upload is not None:
            # Read with the file input: what is in use, and that choosing a file replaces it.
            bound = self["transcript_file"]
            described_by = [bound.aria_describedby, f"{bound.auto_id}_staged"]
            self.fields["transcript_file"].widget.attrs["aria-describedby"] = " ".join(filter(None, described_by))

    def discard_upload(self) -> None:
        """Once the report is filed (with the staged file's bytes, if it used them): the staged file goes."""
        if self._staged_file is not None:
            self._staged_file.close()
        if self.cleaned_data.get("transcript_staged"):
            staging.discard(self.cleaned_data["transcript_staged"])


class ReporterNoteForm(forms.Form):
    text = forms.CharField(
        label="Add information",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[ProhibitNullCharactersValidator()],
        help_text="Anything that helps: what happened next, a correction, another link. Staff see it.",
    )


class SignInForm(OTPAuthenticationForm):
    """Password for everyone; the authenticator code for anyone with a device, and for staff when required."""

    def clean_otp(self, user) -> None:
        if user is None:
            return
        if not (user_has_device(user) or (settings.OTP_REQUIRED_FOR_STAFF and user.is_staff)):
            return
        if not self.cleaned_data.get("otp_device"):
            devices = list(devices_for_user(user))
            if len(devices) == 1:  # the sign-in page has no device picker
                self.cleaned_data["otp_device"] = devices[0].persistent_id
        super().clean_otp(user)
