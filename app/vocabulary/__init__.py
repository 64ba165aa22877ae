"""The personal vocabulary: terms learned from corrections (only with `vocabulary_learning`) or
added by the user, kept encrypted as an aggregated list, and used to help recognition.

No Qt here. `store` keeps the list (never a sentence, never a meeting link), `learning` finds the
terms a correction taught, `corrections` is the editor's and the CLI's entry point (correct,
undo, learn), `soundalike` compares spellings by sound, and `bias` uses the list when
transcribing, only while the permission is given.
"""
