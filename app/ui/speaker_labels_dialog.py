""""Rename speakers…": the names a stored meeting shows for its two sources.

Displays and forwards only: whether a name can be used is decided by
`app.storage.speaker_labels.clean_label`, the same check `candor meetings label` makes; a name
it refuses is shown here with its reason and the dialog stays open. An empty field resets that
speaker to its default ("You" / "Others").
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.segments import SOURCE_LABELS, Labels, Source
from app.storage.speaker_labels import MAX_LABEL, InvalidLabel, clean_label
from app.ui.theme import accents

PROMPTS: dict[Source, tuple[str, str]] = {
    "microphone": ("&You (your microphone):",
                   "Your name in this meeting; empty: “You”"),
    "system": ("&Others (the computer's sound):",
               "The other participants' name in this meeting; empty: “Others”"),
}


class SpeakerLabelsDialog(QDialog):
    def __init__(self, labels: Labels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("speaker_labels_dialog")
        self.setWindowTitle("Rename speakers")
        layout = QVBoxLayout(self)
        intro = QLabel("Who spoke in this meeting, as the transcript and its exports name them. "
                       "Leave a field empty for “You” or “Others”. Names are stored encrypted, "
                       "like the title; a redacted export replaces them.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.fields: dict[Source, QLineEdit] = {}
        for source, (prompt, description) in PROMPTS.items():
            field = QLineEdit(self)
            field.setObjectName(f"label_{source}")
            field.setText(labels.get(source, SOURCE_LABELS[source]))
            field.setPlaceholderText(SOURCE_LABELS[source])
            field.setClearButtonEnabled(True)
            # Room for a name one too long, so it is refused with its reason rather than cut.
            field.setMaxLength(MAX_LABEL * 2)
            field.setAccessibleName(prompt.replace("&", "").rstrip(":"))
            field.setAccessibleDescription(description)
            label = QLabel(prompt, self)
            label.setBuddy(field)
            form.addRow(label, field)
            self.fields[source] = field
        layout.addLayout(form)
        self.problem = QLabel(self)
        self.problem.setObjectName("label_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {accents(self.palette()).alert}")
        self.problem.setVisible(False)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        # Plain words without mnemonics: Alt+O is the Others field's (Enter and Esc answer).
        self.ok_button.setText("Save")
        self.cancel_button.setText("Cancel")
        layout.addWidget(buttons)

    def labels(self) -> dict[Source, str]:
        """What the user typed for each source ("" resets it to its default)."""
        return {source: field.text() for source, field in self.fields.items()}

    def accept(self) -> None:
        for source, text in self.labels().items():
            try:
                clean_label(source, text)
            except InvalidLabel as err:
                reason = str(err)
                self.problem.setText(f"{reason[:1].upper()}{reason[1:]}.")
                self.problem.setAccessibleName(self.problem.text())
                self.problem.setVisible(True)
                self.fields[source].setFocus()
                self.fields[source].selectAll()
                return
        super().accept()


def ask_labels(labels: Labels, parent: QWidget | None = None) -> dict[Source, str] | None:
    """The names typed for each source, or None when the user cancelled."""
    dialog = SpeakerLabelsDialog(labels, parent)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.labels() if accepted else None
