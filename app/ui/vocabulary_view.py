"""What Candor learned: every term of the personal vocabulary, where it came from (learned from a
correction, or added by the user), how often it was corrected and when — with remove one, remove
all, add a term of one's own (a glossary entry, under `vocabulary_learning`), and mark a term
as a person's name (always redacted) or as a term that is no name (never redacted as one).

Only displays `VocabularyStore` and forwards to it; what the list holds is terms, never sentences.
Whether learning is on is said at the top, from the gate, and follows a withdrawal at once.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.consent import ConsentGate, ConsentRequired
from app.consent.purposes import VOCABULARY_LEARNING
from app.storage import StorageError
from app.ui.confirm import confirm_destructive
from app.ui.consent_dialog import ask_for_purposes
from app.ui.gate_bridge import GateBridge
from app.ui.storage_text import local_time, plural
from app.ui.window_storage import WindowStorage
from app.vocabulary.store import NAME, TERM, BadTerm, Kind, Term, VocabularyStore

VIA = "window: What Candor learned"
COLUMNS = ("Term", "Came from", "Times corrected", "First learned", "Last learned", "Kind")
KIND_SHOWN: dict[Kind | None, str] = {
    NAME: "name: always redacted",
    TERM: "term: never redacted",
    None: "not said: guessed",
}


class VocabularyView(QWidget):
    def __init__(self, storage: WindowStorage, gate: ConsentGate, bridge: GateBridge,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("What Candor learned")
        self.setObjectName("vocabulary_view")
        self.setAccessibleName("What Candor learned")
        self.storage = storage
        self.gate = gate
        self.terms: list[Term] = []

        self.learning = QLabel(self)
        self.learning.setWordWrap(True)
        self.learning.setAccessibleName("Learning status")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Learned terms")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.new_term = QLineEdit(self)
        self.new_term.setPlaceholderText("A name or term to recognise, e.g. Kowalczyk")
        self.new_term.setAccessibleName("New term")
        self.new_term.returnPressed.connect(self.add_typed)
        self.add_button = QPushButton("&Add", self)
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_typed)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.setAutoDefault(False)
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Remove a&ll…", self)
        self.clear_button.setAutoDefault(False)
        self.clear_button.clicked.connect(self.clear_all)
        self.mark_name_button = QPushButton("Mark as &name", self)
        self.mark_name_button.setAutoDefault(False)
        self.mark_name_button.setAccessibleName("Mark the selected terms as people's names")
        self.mark_name_button.clicked.connect(lambda: self.mark_selected(NAME))
        self.mark_term_button = QPushButton("Mark as &term", self)
        self.mark_term_button.setAutoDefault(False)
        self.mark_term_button.setAccessibleName("Mark the selected terms as no names")
        self.mark_term_button.clicked.connect(lambda: self.mark_selected(TERM))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Vocabulary status")

        adding = QHBoxLayout()
        adding.addWidget(self.new_term, 1)
        adding.addWidget(self.add_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.mark_name_button)
        buttons.addWidget(self.mark_term_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.learning)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(adding)
        layout.addWidget(self.status)
        self.resize(720, 440)

        bridge.changed.connect(self.refresh)
        storage.changed.connect(self.refresh)
        self.refresh()

    def _vocabulary(self) -> VocabularyStore:
        return VocabularyStore(self.storage.store)

    def refresh(self) -> None:
        title = self.gate.notices.current(VOCABULARY_LEARNING).title
        if self.gate.allowed(VOCABULARY_LEARNING):
            self.learning.setText(f"“{title}” is on: Candor learns the names and terms you "
                                  "correct, and uses them when it transcribes. Only terms are "
                                  "kept, never sentences.")
        else:
            self.learning.setText(f"“{title}” is off: Candor learns nothing from your "
                                  "corrections and uses none of the terms below. Give it in "
                                  "Privacy & consent to learn and to add terms.")
        try:
            self.terms = self._vocabulary().terms()
        except StorageError as err:
            self.terms = []
            self.status.setText(f"The vocabulary cannot be read: {err}.")
        self.table.setRowCount(len(self.terms))
        for row, term in enumerate(self.terms):
            cells = (term.text, "your correction" if term.origin == "corrected" else "added by you",
                     str(term.times_corrected) if term.origin == "corrected" else "—",
                     local_time(term.first_learned), local_time(term.last_learned),
                     KIND_SHOWN[term.kind])
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self._update_buttons()

    def _selected(self) -> list[Term]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.terms[r] for r in rows if r < len(self.terms)]

    def _update_buttons(self) -> None:
        chosen = bool(self._selected())
        self.remove_button.setEnabled(chosen)
        self.mark_name_button.setEnabled(chosen)
        self.mark_term_button.setEnabled(chosen)
        self.clear_button.setEnabled(bool(self.terms))

    def add_typed(self) -> None:
        text = self.new_term.text().strip()
        if not text:
            return
        if not ask_for_purposes(self.gate, [VOCABULARY_LEARNING], VIA, self):
            self.status.setText("Nothing was added: adding terms needs “"
                                f"{self.gate.notices.current(VOCABULARY_LEARNING).title}”.")
            return
        try:
            added = self._vocabulary().add([text], self.gate)
        except BadTerm as err:
            self.status.setText(f"“{text}” was not added: {err}")
            return
        except (ConsentRequired, StorageError) as err:
            self.status.setText(f"“{text}” was not added: {err}")
            return
        self.new_term.clear()
        self.refresh()
        self.status.setText(f"Added {', '.join(t.text for t in added)}.")

    def mark_selected(self, kind: Kind) -> None:
        chosen = self._selected()
        if not chosen:
            return
        shown = "names" if kind == NAME else "terms"
        if not ask_for_purposes(self.gate, [VOCABULARY_LEARNING], VIA, self):
            self.status.setText(f"Nothing was marked: marking {shown} needs “"
                                f"{self.gate.notices.current(VOCABULARY_LEARNING).title}”.")
            return
        try:
            marked, _ = self._vocabulary().mark([t.text for t in chosen], kind, self.gate)
        except (ConsentRequired, StorageError) as err:
            self.status.setText(f"Nothing was marked: {err}")
            return
        self.refresh()
        self.status.setText(f"Marked as {shown}: {', '.join(t.text for t in marked)}.")

    def remove_selected(self) -> None:
        chosen = self._selected()
        if not chosen:
            return
        removed, _ = self._vocabulary().remove([t.text for t in chosen])
        self.refresh()
        self.status.setText(f"Removed {', '.join(removed)}.")

    def clear_all(self) -> bool:
        count = len(self.terms)
        if not count or not confirm_destructive(
                self, "Remove every term",
                f"Remove all {plural(count, 'term')} Candor learned or you added? Candor "
                "forgets them for good.", "Remove all"):
            return False
        gone = self._vocabulary().clear()
        self.refresh()
        self.status.setText(f"Removed {plural(gone, 'term')}. The vocabulary is empty.")
        return True
