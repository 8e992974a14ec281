"""The scanner of Go's text/template, rule for rule: the trim markers ``{{- `` / `` -}}``, comments, strings,
raw strings, character constants, numbers, fields, variables and keywords.

Positions are character offsets into the template text; ``errors.location`` turns them into Go's
``line:byte-column`` form. Like Go's lexer it hands out one item at a time to the parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto
from typing import TypeAlias

LEFT, RIGHT = "{{", "}}"
LEFT_COMMENT, RIGHT_COMMENT = "/*", "*/"
SPACES = " \t\r\n"


class T(Enum):
    ERROR = auto()
    BOOL = auto()
    CHAR = auto()
    CHAR_CONSTANT = auto()
    COMMENT = auto()
    COMPLEX = auto()
    ASSIGN = auto()
    DECLARE = auto()
    EOF = auto()
    FIELD = auto()
    IDENTIFIER = auto()
    LEFT_DELIM = auto()
    LEFT_PAREN = auto()
    NUMBER = auto()
    PIPE = auto()
    RAW_STRING = auto()
    RIGHT_DELIM = auto()
    RIGHT_PAREN = auto()
    SPACE = auto()
    STRING = auto()
    TEXT = auto()
    VARIABLE = auto()
    # keywords
    BLOCK = auto()
    BREAK = auto()
    CONTINUE = auto()
    DOT = auto()
    DEFINE = auto()
    ELSE = auto()
    END = auto()
    IF = auto()
    NIL = auto()
    RANGE = auto()
    TEMPLATE = auto()
    WITH = auto()


KEYWORDS = {
    ".": T.DOT, "block": T.BLOCK, "break": T.BREAK, "continue": T.CONTINUE, "define": T.DEFINE, "else": T.ELSE,
    "end": T.END, "if": T.IF, "range": T.RANGE, "nil": T.NIL, "template": T.TEMPLATE, "with": T.WITH,
}
KEYWORD_TYPES = frozenset(KEYWORDS.values())
StateFn: TypeAlias = Callable[[], "StateFn | None"]


@dataclass(frozen=True, slots=True)
class Item:
    typ: T
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ is T.EOF:
            return "EOF"
        if self.typ is T.ERROR:
            return self.val
        if self.typ in KEYWORD_TYPES:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return _go_q(self.val[:10]) + "..."
        return _go_q(self.val)


def _go_q(s: str) -> str:
    from rollouts.notifications.gotemplate.gofmt import go_quote

    return go_quote(s)


def is_space(ch: str) -> bool:
    return ch != "" and ch in SPACES


def is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


def _has_left_trim(s: str) -> bool:
    return len(s) >= 2 and s[0] == "-" and is_space(s[1])


def _has_right_trim(s: str) -> bool:
    return len(s) >= 2 and is_space(s[0]) and s[1] == "-"


class Lexer:
    def __init__(self, text: str, *, break_ok: bool = True, continue_ok: bool = True) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.at_eof = False
        self.paren_depth = 0
        self.inside_action = False
        self.item: Item | None = None
        self.break_ok = break_ok
        self.continue_ok = continue_ok

    # -- rune primitives ------------------------------------------------------------------------------

    def next(self) -> str:
        if self.pos >= len(self.input):
            self.at_eof = True
            return ""
        ch = self.input[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def peek(self) -> str:
        ch = self.next()
        self.backup()
        return ch

    def backup(self) -> None:
        if not self.at_eof and self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def this_item(self, typ: T) -> Item:
        item = Item(typ, self.start, self.input[self.start:self.pos], self.start_line)
        self.start = self.pos
        self.start_line = self.line
        return item

    def emit(self, typ: T) -> None:
        self.item = self.this_item(typ)

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def accept(self, valid: str) -> bool:
        ch = self.next()
        if ch != "" and ch in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if ch == "" or ch not in valid:
                break
        self.backup()

    def errorf(self, message: str) -> None:
        self.item = Item(T.ERROR, self.start, message, self.start_line)
        self.start = 0
        self.pos = 0
        self.input = ""

    # -- driver ------------------------------------------------------------------------------------

    def next_item(self) -> Item:
        self.item = None
        state: StateFn = self.lex_inside_action if self.inside_action else self.lex_text
        while self.item is None:
            nxt = state()
            if self.item is not None:
                break
            if nxt is None:
                self.item = Item(T.EOF, self.pos, "EOF", self.start_line)
                break
            state = nxt
        return self.item

    # -- states (each returns the next state, or None after emitting) ------------------------------------

    def lex_text(self) -> StateFn | None:
        x = self.input.find(LEFT, self.pos)
        if x >= 0:
            if x > self.pos:
                self.pos = x
                trim = 0
                delim_end = self.pos + len(LEFT)
                if _has_left_trim(self.input[delim_end:]):
                    segment = self.input[self.start:self.pos]
                    trim = len(segment) - len(segment.rstrip(SPACES))
                self.pos -= trim
                self.line += self.input.count("\n", self.start, self.pos)
                item = self.this_item(T.TEXT)
                self.pos += trim
                self.ignore()
                if item.val:
                    self.item = item
                    return None
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            self.emit(T.TEXT)
            return None
        self.emit(T.EOF)
        return None

    def at_right_delim(self) -> tuple[bool, bool]:
        rest = self.input[self.pos:]
        if _has_right_trim(rest) and rest[2:].startswith(RIGHT):
            return True, True
        if rest.startswith(RIGHT):
            return True, False
        return False, False

    def lex_left_delim(self) -> StateFn | None:
        self.pos += len(LEFT)
        trim = _has_left_trim(self.input[self.pos:])
        after = 2 if trim else 0
        if self.input.startswith(LEFT_COMMENT, self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment
        item = self.this_item(T.LEFT_DELIM)
        self.inside_action = True
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        self.item = item
        return None

    def lex_comment(self) -> StateFn | None:
        self.pos += len(LEFT_COMMENT)
        x = self.input.find(RIGHT_COMMENT, self.pos)
        if x < 0:
            self.errorf("unclosed comment")
            return None
        self.pos = x + len(RIGHT_COMMENT)
        delim, trim = self.at_right_delim()
        if not delim:
            self.errorf("comment ends before closing delimiter")
            return None
        self.line += self.input.count("\n", self.start, self.pos)
        self.this_item(T.COMMENT)
        if trim:
            self.pos += 2
        self.pos += len(RIGHT)
        if trim:
            rest = self.input[self.pos:]
            self.pos += len(rest) - len(rest.lstrip(SPACES))
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> StateFn | None:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(RIGHT)
        item = self.this_item(T.RIGHT_DELIM)
        if trim:
            rest = self.input[self.pos:]
            self.pos += len(rest) - len(rest.lstrip(SPACES))
            self.ignore()
        self.inside_action = False
        self.item = item
        return None

    def lex_inside_action(self) -> StateFn | None:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.errorf("unclosed left paren")
            return None
        ch = self.next()
        if ch == "":
            self.errorf("unclosed action")
            return None
        if is_space(ch):
            self.backup()
            return self.lex_space
        simple = {"=": T.ASSIGN, "|": T.PIPE}
        if ch in simple:
            self.emit(simple[ch])
            return None
        quoted = {'"': self.lex_quote, "`": self.lex_raw_quote, "$": self.lex_variable, "'": self.lex_char}
        if ch in quoted:
            return quoted[ch]
        return self._lex_operand_start(ch)

    def _lex_operand_start(self, ch: str) -> StateFn | None:
        if ch == ":":
            if self.next() != "=":
                self.errorf("expected :=")
                return None
            self.emit(T.DECLARE)
            return None
        if ch == "." and self.pos < len(self.input) and not ("0" <= self.input[self.pos] <= "9"):
            return self.lex_field
        if ch == "." or ch in "+-" or "0" <= ch <= "9":
            self.backup()
            return self.lex_number
        if is_alnum(ch):
            self.backup()
            return self.lex_identifier
        if ch in "()":
            self._paren(ch)
            return None
        if ord(ch) <= 0x7F and ch.isprintable():
            self.emit(T.CHAR)
            return None
        self.errorf(f"unrecognized character in action: U+{ord(ch):04X} {_go_q(ch)[1:-1]!s}")
        return None

    def _paren(self, ch: str) -> None:
        if ch == "(":
            self.paren_depth += 1
            self.emit(T.LEFT_PAREN)
            return
        self.paren_depth -= 1
        if self.paren_depth < 0:
            self.errorf("unexpected right paren")
            return
        self.emit(T.RIGHT_PAREN)

    def lex_space(self) -> StateFn | None:
        spaces = 0
        while is_space(self.peek()):
            self.next()
            spaces += 1
        rest = self.input[self.pos - 1:]
        if _has_right_trim(rest) and rest[2:].startswith(RIGHT):
            self.backup()
            if spaces == 1:
                return self.lex_right_delim
        self.emit(T.SPACE)
        return None

    def lex_identifier(self) -> StateFn | None:
        while True:
            ch = self.next()
            if is_alnum(ch):
                continue
            self.backup()
            word = self.input[self.start:self.pos]
            if not self.at_terminator():
                self.errorf(f"bad character {_rune(ch)}")
                return None
            kw = KEYWORDS.get(word)
            if kw is not None and kw is not T.DOT:
                if (kw is T.BREAK and not self.break_ok) or (kw is T.CONTINUE and not self.continue_ok):
                    self.emit(T.IDENTIFIER)
                else:
                    self.emit(kw)
            elif word[0] == ".":
                self.emit(T.FIELD)
            elif word in ("true", "false"):
                self.emit(T.BOOL)
            else:
                self.emit(T.IDENTIFIER)
            return None

    def lex_field(self) -> StateFn | None:
        return self._field_or_variable(T.FIELD)

    def lex_variable(self) -> StateFn | None:
        if self.at_terminator():
            self.emit(T.VARIABLE)
            return None
        return self._field_or_variable(T.VARIABLE)

    def _field_or_variable(self, typ: T) -> StateFn | None:
        if self.at_terminator():
            self.emit(T.VARIABLE if typ is T.VARIABLE else T.DOT)
            return None
        while True:
            ch = self.next()
            if not is_alnum(ch):
                self.backup()
                break
        if not self.at_terminator():
            self.errorf(f"bad character {_rune(ch)}")
            return None
        self.emit(typ)
        return None

    def at_terminator(self) -> bool:
        ch = self.peek()
        if is_space(ch):
            return True
        if ch == "" or ch in ".,|:)(":
            return True
        return self.input.startswith(RIGHT, self.pos)

    def lex_char(self) -> StateFn | None:
        while True:
            ch = self.next()
            if ch == "\\":
                nxt = self.next()
                if nxt not in ("", "\n"):
                    continue
                ch = ""
            if ch in ("", "\n"):
                self.errorf("unterminated character constant")
                return None
            if ch == "'":
                break
        self.emit(T.CHAR_CONSTANT)
        return None

    def lex_number(self) -> StateFn | None:
        if not self.scan_number():
            self.errorf(f"bad number syntax: {_go_q(self.input[self.start:self.pos])}")
            return None
        if self.peek() in ("+", "-"):
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                self.errorf(f"bad number syntax: {_go_q(self.input[self.start:self.pos])}")
                return None
            self.emit(T.COMPLEX)
            return None
        self.emit(T.NUMBER)
        return None

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self) -> StateFn | None:
        while True:
            ch = self.next()
            if ch == "\\":
                nxt = self.next()
                if nxt not in ("", "\n"):
                    continue
                ch = ""
            if ch in ("", "\n"):
                self.errorf("unterminated quoted string")
                return None
            if ch == '"':
                break
        self.emit(T.STRING)
        return None

    def lex_raw_quote(self) -> StateFn | None:
        while True:
            ch = self.next()
            if ch == "":
                self.errorf("unterminated raw quoted string")
                return None
            if ch == "`":
                break
        self.emit(T.RAW_STRING)
        return None


def _rune(ch: str) -> str:
    """fmt's %#U of a rune."""
    if ch == "":
        return "U+FFFFFFFFFFFFFFFF"
    return f"U+{ord(ch):04X} '{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"
