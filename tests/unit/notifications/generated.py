"""Generated templates for the differential test: a seeded random walk over text/template's grammar and the
functions notification templates use, over fields that exist, are missing or are JSON null."""

from __future__ import annotations

import random

FIELDS = [
    ".rollout.metadata.name", ".rollout.metadata.namespace", ".rollout.spec.replicas", ".rollout.status.phase",
    ".rollout.status.currentStepIndex", ".rollout.status.abort", ".rollout.spec.strategy.canary.steps",
    ".rollout.spec.template.spec.containers", ".rollout.status.conditions", ".rollout.metadata.labels",
    ".rollout.status.pauseConditions", ".rollout.status.nothere", ".rollout.spec.strategy.blueGreen",
    ".rollout.status.canary.weights.stable.weight", ".recipient", ".serviceType", ".context.argocdUrl",
    ".rollout.spec.template.spec.containers", ".missing.deeper", ".rollout.metadata.annotations",
    ".secrets.token", ".rollout.spec.strategy.canary.steps", ".rollout.status.observedGeneration",
]
SCALARS = ['"abc"', '"a\\tb\\n"', "`raw`", "3", "0", "-2", "1.5", "2e3", "true", "false", "'x'", '""']
UNARY = ["upper", "lower", "trim", "toJson", "toPrettyJson", "toRawJson", "quote", "squote", "len", "not",
         "toString", "int", "int64", "float64", "empty", "b64enc", "title", "kindOf", "typeOf", "first", "last",
         "html", "js", "urlquery", "print", "println", "sortAlpha", "nospace", "add1"]
BINARY = ["eq", "ne", "lt", "le", "gt", "ge", "default", "trunc", "repeat", "contains", "hasPrefix",
          "trimPrefix", "trimSuffix", "index", "add", "sub", "mul", "div", "mod", "and", "or", "join",
          "indent", "nindent", "max", "min", "splitList", "printf", "replace", "regexMatch", "date", "ternary"]


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.vars: list[str] = []

    def pick(self, xs: list[str]) -> str:
        return self.r.choice(xs)

    def operand(self, depth: int) -> str:
        roll = self.r.random()
        if roll < 0.35:
            return self.pick(FIELDS)
        if roll < 0.6:
            return self.pick(SCALARS)
        if roll < 0.7 and self.vars:
            return self.pick(self.vars)
        if roll < 0.75:
            return "."
        if depth > 0:
            return "(" + self.pipeline(depth - 1) + ")"
        return self.pick(FIELDS)

    def command(self, depth: int, piped: bool) -> str:
        roll = self.r.random()
        if roll < 0.35 and not piped:
            return self.operand(depth)
        if roll < 0.7:
            fn = self.pick(UNARY)
            return fn if piped else f"{fn} {self.operand(depth)}"
        fn = self.pick(BINARY)
        if fn == "printf":
            fmt = self.pick(['"%s"', '"%d"', '"%v-%v"', '"%q"', '"%5.2f"', '"%x"', '"%t"', '"%%|%v"', '"%-4s|"'])
            return f"printf {fmt} {self.operand(depth)}" + ("" if piped else f" {self.operand(depth)}")
        if fn == "date":  # a non-time argument means "now" in sprig: only the deterministic form is generated
            return 'date "2006-01-02 15:04" 0' if not piped else "upper"
        first = self.operand(depth)
        return f"{fn} {first}" if piped else f"{fn} {first} {self.operand(depth)}"

    def pipeline(self, depth: int) -> str:
        parts = [self.command(depth, False)]
        for _ in range(self.r.choice([0, 0, 1, 1, 2])):
            parts.append(self.command(depth, True))
        return " | ".join(parts)

    def action(self) -> str:
        left = self.pick(["{{", "{{", "{{- "])
        right = self.pick(["}}", "}}", " -}}"])
        return f"{left}{self.pipeline(2)}{right}"

    def block(self, depth: int) -> str:
        roll = self.r.random()
        text = self.pick(["", " x ", "\n  ", "a,b", " | "])
        if depth <= 0 or roll < 0.45:
            return text + self.action()
        if roll < 0.6:
            els = self.pick(["", "{{else}}E", "{{else if " + self.pipeline(1) + "}}F{{else}}G"])
            return f"{{{{if {self.pipeline(1)}}}}}{self.body(depth - 1)}{els}{{{{end}}}}"
        if roll < 0.75:
            v = f"$v{depth}"
            i = f"$i{depth}"
            decl = self.pick([f"{i}, {v} := ", f"{v} := ", ""])
            self.vars += [x for x in (i, v) if x in decl]
            els = self.pick(["", "{{else}}none"])
            body = self.body(depth - 1) + self.pick(["", "{{break}}", "{{continue}}", "{{.name}}", "{{.}}"])
            rng = self.pick([self.pick(FIELDS), "3", "(list 1 2)", "(dict \"b\" 1 \"a\" 2)", '"str"', "1.5"])
            out = f"{{{{range {decl}{rng}}}}}{body}{els}{{{{end}}}}"
            for x in (i, v):
                if x in self.vars:
                    self.vars.remove(x)
            return out
        if roll < 0.85:
            return f"{{{{with {self.pipeline(1)}}}}}{self.body(depth - 1)}{{{{else}}}}W{{{{end}}}}"
        v = f"$x{depth}"
        self.vars.append(v)
        return f"{{{{{v} := {self.pipeline(1)}}}}}{self.body(depth - 1)}{{{{{v} = {self.operand(0)}}}}}{{{{{v}}}}}"

    def body(self, depth: int) -> str:
        return "".join(self.block(depth) for _ in range(self.r.choice([1, 1, 2, 3])))


def generated_templates(count: int, seed: int = 17) -> list[str]:
    out = []
    for i in range(count):
        out.append(Gen(seed * 100_003 + i).body(3))
    return out
