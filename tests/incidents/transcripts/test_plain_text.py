import pytest

from incidents import transcripts
from incidents.transcripts import TranscriptError


def test_it_splits_turns_by_speaker_label():
    parsed = transcripts.parse('System: be careful\nUser: hi\nthere\nAssistant: hello\nTool: {"ok": true}\n')
    assert parsed.format == "plain-text"
    assert [(t["index"], t["role"], t["content"]) for t in parsed.turns] == [
        (0, "system", "be careful"),
        (1, "user", "hi\nthere"),
        (2, "assistant", "hello"),
        (3, "tool", '{"ok": true}'),
    ]


@pytest.mark.parametrize(
    "text, roles",
    [
        ("Human: a\nAI: b", ["user", "assistant"]),
        ("## User\na\n## Assistant\nb", ["user", "assistant"]),
        ("**User:** a\n**Assistant:** b", ["user", "assistant"]),
        ("Developer: a\nModel: b", ["developer", "assistant"]),
    ],
)
def test_it_understands_common_label_styles(text, roles):
    assert [t["role"] for t in transcripts.parse(text).turns] == roles


def test_it_warns_about_text_before_the_first_label():
    parsed = transcripts.parse("Exported 2026-01-01\n\nUser: hi\nAssistant: ok")
    assert parsed.warnings == ["Lines 1–1 come before the first speaker label and were not kept as a turn."]
    assert len(parsed.turns) == 2


def test_it_does_not_take_other_words_for_speakers():
    parsed = transcripts.parse("User: see this\nNote: not a speaker\nAssistant: ok")
    assert parsed.turns[0]["content"] == "see this\nNote: not a speaker"


def test_it_refuses_text_without_labels():
    with pytest.raises(TranscriptError, match="not recognised"):
        transcripts.parse("hello there")


def test_it_refuses_nul_characters_with_the_line():
    with pytest.raises(TranscriptError, match=r"Line 2: .*NUL"):
        transcripts.parse("User: a\nAssistant: b\x00")


def test_it_refuses_too_many_turns(settings):
    settings.TRANSCRIPT_MAX_TURNS = 3
    with pytest.raises(TranscriptError, match="4 turns; the limit is 3"):
        transcripts.parse("User: 1\nAssistant: 2\nUser: 3\nAssistant: 4")


def test_it_refuses_an_unknown_format():
    with pytest.raises(TranscriptError, match="Unknown transcript format 'nope'"):
        transcripts.parse("User: a", "nope")


def test_it_decodes_utf8_and_refuses_other_bytes():
    assert transcripts.decode("\ufeffUser: é".encode()) == "User: é"
    with pytest.raises(TranscriptError, match="not UTF-8"):
        transcripts.decode(b"\xff\xfe\x00U")
