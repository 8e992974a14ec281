"""expr-lang's lexer: the same state machine, so tokens, positions and lexing errors are expr's own.

Tokens are produced lazily, as the parser asks for them, because that decides which error wins when both
a lexing and a parsing error exist (`1 + ] "abc` reports the `]`, not the unterminated string).
Positions are rune offsets, as in expr's `file.Location`.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from analysis.expr.errors import ExprError, Location

IDENTIFIER = "Identifier"
NUMBER = "Number"
STRING = "String"
OPERATOR = "Operator"
BRACKET = "Bracket"
EOF = "EOF"

_EOF = ""  # the eof rune


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    start: int
    end: int

    def is_(self, kind: str, *values: str) -> bool:
        return self.kind == kind and (not values or self.value in values)

    def __str__(self) -> str:
        """Token.String(): `Operator("&&")`, `EOF`."""
        from analysis.expr.gofmt import quote

        return self.kind if self.value == "" else f"{self.kind}({quote(self.value)})"


def is_space(ch: str) -> bool:
    """unicode.IsSpace."""
    if ch == _EOF:
        return False
    return ch in "\t\n\v\f\r \x85\xa0" if ord(ch) < 256 else ch.isspace()


def is_letter(ch: str) -> bool:
    return ch != _EOF and unicodedata.category(ch).startswith("L")


def is_digit(ch: str) -> bool:
    return ch != _EOF and unicodedata.category(ch) == "Nd"


def is_alphabetic(ch: str) -> bool:
    return ch in ("_", "$") or is_letter(ch)


def is_alphanumeric(ch: str) -> bool:
    return is_alphabetic(ch) or is_digit(ch)


def is_valid_identifier(text: str) -> bool:
    return bool(text) and is_alphabetic(text[0]) and all(is_alphanumeric(c) for c in text[1:])


State = Callable[["Lexer"], "State | None"]


class Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.start = 0
        self.end = 0
        self.eof = False
        self.tokens: deque[Token] = deque()
        self.error_: ExprError | None = None
        self.state: State | None = _root

    def next_token(self) -> Token | None:
        """The next token; None after EOF was delivered; raises the lexing error when it is reached."""
        while self.state is not None and self.error_ is None and not self.tokens:
            self.state = self.state(self)
        if self.error_ is not None:
            raise self.error_
        if self.tokens:
            return self.tokens.popleft()
        return None

    # --- the primitives of expr's lexer ----------------------------------------------------------

    def next(self) -> str:
        if self.end >= len(self.source):
            self.eof = True
            return _EOF
        ch = self.source[self.end]
        self.end += 1
        return ch

    def peek(self) -> str:
        return self.source[self.end] if self.end < len(self.source) else _EOF

    def backup(self) -> None:
        if self.eof:
            self.eof = False
        elif self.end > 0:
            self.end -= 1

    def word(self) -> str:
        return self.source[self.start:self.end]

    def emit(self, kind: str, value: str | None = None) -> None:
        self.tokens.append(Token(kind, self.word() if value is None else value, self.start, self.end))
        self.start = self.end

    def emit_eof(self) -> None:
        self.tokens.append(Token(EOF, "", max(self.end - 1, 0), max(self.end, 0)))
        self.start = self.end

    def skip(self) -> None:
        self.start = self.end

    def accept(self, valid: str) -> bool:
        ch = self.peek()
        if ch != _EOF and ch in valid:
            self.next()
            return True
        return False

    def accept_run(self, valid: str) -> None:
        while self.accept(valid):
            pass

    def error(self, message: str) -> None:
        if self.error_ is None:
            end = self.end + (1 if self.eof else 0)
            self.error_ = ExprError(message, Location(end - 1, end)).bind(self.source)

    # --- scanners ----------------------------------------------------------------------------------

    def scan_digits(self, ch: str, base: int, n: int) -> str:
        while n > 0 and _digit_value(ch) < base:
            ch = self.next()
            n -= 1
        if n > 0:
            self.error("invalid char escape")
        return ch

    def scan_escape(self, quote: str) -> str:
        ch = self.next()
        if (ch != _EOF and ch in "abfnrtv\\") or ch == quote:
            return self.next()
        if ch != _EOF and ch in "01234567":
            return self.scan_digits(ch, 8, 3)
        if ch == "x":
            return self.scan_digits(self.next(), 16, 2)
        if ch == "u":
            if self.peek() == "{":
                return self._scan_braced_unicode()
            return self.scan_digits(self.next(), 16, 4)
        if ch == "U":
            return self.scan_digits(self.next(), 16, 8)
        self.error("invalid char escape")
        return ch

    def _scan_braced_unicode(self) -> str:
        self.next()
        digits = 0
        while self.peek() != "}":
            if _digit_value(self.peek()) >= 16 or digits >= 6:
                self.error("invalid char escape")
                return _EOF
            self.next()
            digits += 1
        if digits == 0:
            self.error("invalid char escape")
            return _EOF
        self.next()
        return self.next()

    def scan_string(self, quote: str) -> None:
        ch = self.next()
        while ch != quote:
            if ch in ("\n", _EOF):
                self.error("literal not terminated")
                return
            ch = self.scan_escape(quote) if ch == "\\" else self.next()

    def scan_raw_string(self, quote: str) -> None:
        escaped = 0
        while True:
            ch = self.next()
            while ch == quote and self.peek() == quote:
                self.next()
                ch = self.next()
                escaped += 1
            if ch == quote:
                break
            if ch == _EOF:
                self.error("literal not terminated")
                return
        text = self.source[self.start + 1:self.end - 1]
        self.emit(STRING, text.replace(quote * 2, quote) if escaped else text)

    def scan_number(self) -> bool:
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        end = self.end
        if self.accept("."):
            if self.peek() == ".":
                self.end = end
                return True
            self.accept_run(digits)
        if self.accept("eE"):
            self.accept("+-")
            self.accept_run(digits)
        if is_alphanumeric(self.peek()):
            self.next()
            return False
        return True


def _digit_value(ch: str) -> int:
    if ch != _EOF and "0" <= ch <= "9":
        return ord(ch) - ord("0")
    if ch != _EOF and len(ch) == 1 and "a" <= chr(0x20 | ord(ch)) <= "f" and ord(ch) < 128:
        return ord(chr(0x20 | ord(ch))) - ord("a") + 10
    return 16


# --- states -------------------------------------------------------------------------------------------


def _root(lx: Lexer) -> State | None:
    ch = lx.next()
    if ch == _EOF:
        lx.emit_eof()
        return None
    if is_space(ch):
        lx.skip()
        return _root
    handler = _ROOT_HANDLERS.get(ch)
    if handler is not None:
        return handler(lx, ch)
    if is_alphanumeric(ch):
        lx.backup()
        return _identifier
    from analysis.expr.gofmt import is_printable

    shown = f" '{ch}'" if is_printable(ch) else ""
    lx.error(f"unrecognized character: U+{ord(ch):04X}{shown}")
    return None


def _quoted(lx: Lexer, ch: str) -> State:
    from analysis.expr.strings import unescape

    lx.scan_string(ch)
    try:
        text = unescape(lx.word())
    except ValueError as exc:
        lx.error(str(exc))
        text = ""
    lx.emit(STRING, text)
    return _root


def _raw(lx: Lexer, ch: str) -> State:
    lx.scan_raw_string(ch)
    return _root


def _number_start(lx: Lexer, ch: str) -> State:
    lx.backup()
    return _number


def _operator(accepting: str) -> Callable[[Lexer, str], State]:
    def handle(lx: Lexer, ch: str) -> State:
        if accepting:
            lx.accept(accepting)
        lx.emit(OPERATOR)
        return _root

    return handle


def _bracket(lx: Lexer, ch: str) -> State:
    lx.emit(BRACKET)
    return _root


def _dot_start(lx: Lexer, ch: str) -> State:
    lx.backup()
    return _dot


def _goto(state: State) -> Callable[[Lexer, str], State]:
    return lambda lx, ch: state


_ROOT_HANDLERS: dict[str, Callable[[Lexer, str], State]] = {
    "'": _quoted, '"': _quoted, "`": _raw,
    **{d: _number_start for d in "0123456789"},
    "|": _operator("|"), ":": _operator(":"),
    **{b: _bracket for b in "([{)]}"},
    **{o: _operator("") for o in ",;%+-^"},
    **{o: _operator("&=*") for o in "&!=*<>"},
    ".": _dot_start,
}


def _number(lx: Lexer) -> State | None:
    if not lx.scan_number():
        from analysis.expr.gofmt import quote

        lx.error(f"bad number syntax: {quote(lx.word())}")
        return None
    lx.emit(NUMBER)
    return _root


def _dot(lx: Lexer) -> State:
    lx.next()
    if lx.accept("0123456789"):
        lx.backup()
        return _number
    lx.accept(".")
    lx.emit(OPERATOR)
    return _root


_WORD_OPERATORS = frozenset({"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if",
                             "else"})
_NEGATABLE = frozenset({"in", "matches", "contains", "startsWith", "endsWith"})


def _identifier(lx: Lexer) -> State:
    while is_alphanumeric(lx.next()):
        pass
    lx.backup()
    word = lx.word()
    if word == "not":
        return _not
    lx.emit(OPERATOR if word in _WORD_OPERATORS else IDENTIFIER)
    return _root


def _not(lx: Lexer) -> State:
    lx.emit(OPERATOR)
    lx.accept_run(" ")
    lx.skip()
    end = lx.end
    while is_alphanumeric(lx.next()):
        pass
    lx.backup()
    if lx.word() in _NEGATABLE:
        lx.emit(OPERATOR)
    else:
        lx.end = end
    return _root


def _question(lx: Lexer) -> State:
    lx.accept(".?")
    lx.emit(OPERATOR)
    return _root


def _slash(lx: Lexer) -> State | None:
    if lx.accept("/"):
        while lx.next() not in (_EOF, "\n"):
            pass
        lx.skip()
        return _root
    if lx.accept("*"):
        while True:
            ch = lx.next()
            if ch == _EOF:
                lx.error("unclosed comment")
                return None
            if ch == "*" and lx.accept("/"):
                break
        lx.skip()
        return _root
    lx.emit(OPERATOR)
    return _root


def _pointer(lx: Lexer) -> State:
    lx.accept("#")
    lx.emit(OPERATOR)
    while is_alphanumeric(lx.next()):
        pass
    lx.backup()
    if lx.word():
        lx.emit(IDENTIFIER)
    return _root


_ROOT_HANDLERS.update({"?": _goto(_question), "/": _goto(_slash), "#": _goto(_pointer)})
