"""expr-lang v1.17.7 (the version Argo Rollouts v1.10.2 pins), reimplemented as a sandboxed interpreter.

The stages are expr's own: lexer -> parser (ast) -> checker (natures, the static Go types) -> optimizer
-> evaluator (expr's VM semantics plus a total step budget), with builtins and Go's formatting, time,
JSON, regexp and sort semantics in modules of their own. `argo` configures it as Argo's utils/evaluate
does; `analysis.conditions` is the entry point the rest of the controller uses.
"""
