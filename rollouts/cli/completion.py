"""Shell completion: `completion bash|zsh|fish` scripts, and the `__complete` protocol they (and kubectl) call.

The protocol is cobra's, which Argo's plugin and kubectl speak: `PLUGIN __complete ARGS... PARTIAL` prints one
candidate per line (`name<TAB>description`) and a last line `:<directive>` (1 error, 2 no space after the
word, 4 no file completion; 0 lets the shell complete file names). kubectl 1.26+ completes plugin arguments by
running `kubectl_complete-<plugin> ARGS... PARTIAL` with the same output, so the package installs
`kubectl_complete-argo-rollouts` and `kubectl_complete-rollouts`, and `kubectl argo rollouts get rollout <TAB>`
completes inside kubectl's own completion too.

Names come from the cluster, in the namespace the command line names (`-n`, `--context`, `--kubeconfig` are
read from the words typed so far): Rollouts for the rollout commands, AnalysisRuns for `terminate
analysisrun`, namespaces for `-n`, contexts, clusters and users of the kubeconfig for those flags.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rollouts.cli.invocation import Invocation

ERROR, NO_SPACE, NO_FILE = 1, 2, 4
FILE_FLAGS = {"-f", "--filename", "--kubeconfig", "--from-file", "--certificate-authority", "--client-certificate",
              "--client-key", "--cache-dir"}
# Which names the positional argument of a command completes to (the command's path -> resource).
NAMES: dict[tuple[str, ...], str] = {
    **{(verb,): "rollouts" for verb in ("abort", "pause", "promote", "restart", "resume", "status", "undo")},
    ("get", "rollout"): "rollouts", ("retry", "rollout"): "rollouts", ("set", "image"): "rollouts",
    ("terminate", "analysisrun"): "analysisruns",
}
# The commands whose positional argument may name several objects.
SEVERAL = {("abort",), ("pause",), ("resume",), ("retry", "rollout"), ("terminate", "analysisrun")}
_CONNECTION = {"-n": "namespace", "--namespace": "namespace", "--context": "context", "--kubeconfig": "kubeconfig",
               "--cluster": "cluster", "--user": "user", "-s": "server", "--server": "server", "--token": "token"}


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _canonical(action: argparse._SubParsersAction[Any], word: str) -> str:
    """The command name for `word` (an alias maps to its command)."""
    chosen = action.choices[word]
    for name, parser in action.choices.items():
        if parser is chosen:
            return name
    return word


def _takes_value(parser: argparse.ArgumentParser, flag: str) -> bool:
    from rollouts.cli.flags import GoBool

    action = parser._option_string_actions.get(flag)
    return action is not None and not isinstance(action, GoBool) and action.nargs != 0


@dataclass(frozen=True)
class _Typed:
    """What the complete words say: the (sub)command they reach, its path, the positional words typed after it,
    the connection flags (to read names where the user points) and whether `--global` asks for cluster-scoped
    templates."""

    parser: argparse.ArgumentParser
    path: tuple[str, ...]
    positionals: tuple[str, ...]
    connection: dict[str, str]
    cluster_templates: bool


def _read_words(done: Sequence[str], parser: argparse.ArgumentParser) -> _Typed:
    """Walk the complete words as argparse would: subcommands while no positional is seen, flags (skipping the
    value of one that takes it), and everything after `--` as positionals."""
    current, path = parser, []
    positionals: list[str] = []
    connection: dict[str, str] = {}
    i = 0
    while i < len(done):
        word = done[i]
        if word == "--":
            positionals += done[i + 1:]
            break
        if word.startswith("-") and word != "-":
            flag, _, inline = word.partition("=")
            if flag in _CONNECTION and (inline or i + 1 < len(done)):
                connection[_CONNECTION[flag]] = inline or done[i + 1]
            if not inline and _takes_value(current, flag):
                i += 1
        else:
            sub = _subparsers(current)
            if sub is not None and word in sub.choices and not positionals:
                path.append(_canonical(sub, word))
                current = sub.choices[word]
            else:
                positionals.append(word)
        i += 1
    cluster_templates = any(w.split("=")[0] == "--global" for w in done)
    return _Typed(current, tuple(path), tuple(positionals), connection, cluster_templates)


def complete(words: Sequence[str], parser: argparse.ArgumentParser,
             names: Any = None) -> tuple[list[str], int]:
    """Candidates and directive for completing the last of `words` (the ones before it are complete).

    `names(resource, connection) -> list[str]` reads names from the cluster."""
    *done, partial = list(words) or [""]
    typed = _read_words(done, parser)
    if done and done[-1].startswith("-") and "=" not in done[-1] and _takes_value(typed.parser, done[-1]):
        return _flag_values(typed, done[-1], partial, names)
    if partial.startswith("-"):
        if "=" in partial:
            flag, _, value = partial.partition("=")
            values, directive = _flag_values(typed, flag, value, names)
            return [f"{flag}={v}" for v in values], directive
        return _flags(typed.parser, partial), NO_FILE
    sub = _subparsers(typed.parser)
    if sub is not None and not typed.positionals:
        return _subcommands(sub, partial), NO_FILE
    return _positional(typed, partial, names)


def _subcommands(sub: argparse._SubParsersAction[Any], partial: str) -> list[str]:
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    return [f"{name}\t{helps.get(name, '')}".rstrip("\t") for name in sub.choices
            if name in helps and name.startswith(partial) and not name.startswith("__")]


def _positional(typed: _Typed, partial: str, names: Any) -> tuple[list[str], int]:
    """The command's positional argument: a shell name, files (lint, create), or names from the cluster
    (several for the commands that take several, the ones already typed left out)."""
    if typed.path == ("completion",):
        return [s for s in ("bash", "zsh", "fish") if s.startswith(partial)], NO_FILE
    if typed.path in {("lint",), ("create",)}:
        return [], 0
    resource = NAMES.get(typed.path)
    if resource is None or (typed.positionals and typed.path not in SEVERAL):
        return [], NO_FILE
    try:
        found = names(resource, typed.connection) if names is not None else []
    except Exception:
        return [], ERROR
    return [n for n in found if n.startswith(partial) and n not in typed.positionals], NO_FILE


def _flags(parser: argparse.ArgumentParser, partial: str) -> list[str]:
    out = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        for flag in action.option_strings:
            if flag.startswith("--") and flag.startswith(partial):
                out.append(f"{flag}\t{(action.help or '').splitlines()[0] if action.help else ''}".rstrip("\t"))
    return out


def _flag_values(typed: _Typed, flag: str, partial: str, names: Any) -> tuple[list[str], int]:
    """The value of `flag`: files left to the shell, its choices, or names from the cluster / kubeconfig."""
    if flag in FILE_FLAGS:
        return [], 0
    action = typed.parser._option_string_actions.get(flag)
    if action is not None and action.choices:
        return [str(c) for c in action.choices if str(c).startswith(partial)], NO_FILE
    kind = {"-n": "namespaces", "--namespace": "namespaces", "--context": "contexts", "--cluster": "clusters",
            "--user": "users", "--from": "analysistemplates"}.get(flag)
    if kind is None or names is None:
        return [], NO_FILE
    if kind == "analysistemplates" and typed.cluster_templates:
        kind = "clusteranalysistemplates"
    try:
        found = names(kind, typed.connection)
    except Exception:
        return [], ERROR
    return [n for n in found if n.startswith(partial)], NO_FILE


def cluster_names(resource: str, connection: dict[str, str]) -> list[str]:
    """Names of `resource` in the namespace the typed flags point at (or kubeconfig entries)."""
    from rollouts.cli.connection import ConnectionFlags, kubeconfig_files, load_kubeconfig, merge_kubeconfigs, resolve

    if resource in ("contexts", "clusters", "users"):
        files = [p for p in kubeconfig_files(connection.get("kubeconfig"), os.environ) if p.is_file()]
        merged = merge_kubeconfigs([load_kubeconfig(p) for p in files])
        return sorted(str(e.get("name")) for e in merged.get(resource) or [] if e.get("name"))
    flags = ConnectionFlags(kubeconfig=connection.get("kubeconfig"), context=connection.get("context"),
                            cluster=connection.get("cluster"), user=connection.get("user"),
                            namespace=connection.get("namespace"), server=connection.get("server"),
                            token=connection.get("token"), request_timeout=5.0)
    target = resolve(flags, os.environ)

    async def fetch() -> list[str]:
        from rollouts.cli.connection import connect
        from rollouts.cli.fetch import kinds
        from rollouts.kube.resources import NAMESPACE

        client = await connect(target)
        try:
            if resource == "namespaces":
                items, _ = await client.list(NAMESPACE)
            else:
                kind = kinds()[resource]
                items, _ = await client.list(kind, target.namespace if kind.namespaced else None)
        finally:
            await client.close()
        return sorted(str((o.get("metadata") or {}).get("name")) for o in items)

    return asyncio.run(fetch())


def complete_cmd(words: Sequence[str], *, prog: str = "kubectl rollouts") -> int:
    """`__complete WORDS...`: print the candidates and the directive line."""
    import logging

    from rollouts.cli.main import build_parser

    logging.getLogger().addHandler(logging.NullHandler())
    parser = build_parser(["__complete"], prog=prog)
    found, directive = complete(words, parser, cluster_names)
    out = sys.stdout
    for line in found:
        out.write(line + "\n")
    out.write(f":{directive}\n")
    out.flush()
    return 0


def kubectl_complete() -> int:
    """Entry point of `kubectl_complete-argo-rollouts` / `kubectl_complete-rollouts` (kubectl calls it with
    the plugin's words and the partial one)."""
    return complete_cmd(sys.argv[1:])


# ---------------------------------------------------------------------------------------------------
# scripts


def bash_script(binary: str) -> str:
    func = "_" + binary.replace("-", "_")
    return f"""# bash completion for {binary} (and `kubectl` with kubectl's own completion, via kubectl_complete-*)
{func}() {{
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref -n =: cur words cword
    else
        cur="${{COMP_WORDS[COMP_CWORD]}}"; words=("${{COMP_WORDS[@]}}"); cword=$COMP_CWORD
    fi
    local out directive
    out=$("${{words[0]}}" __complete "${{words[@]:1:$((cword-1))}}" "$cur" 2>/dev/null) || return
    directive=${{out##*:}}
    out=${{out%:*}}
    COMPREPLY=()
    if (( directive & 1 )); then return; fi
    if (( directive & 2 )); then compopt -o nospace 2>/dev/null; fi
    local IFS=$'\\n' line
    for line in $out; do
        COMPREPLY+=("${{line%%$'\\t'*}}")
    done
    if (( ${{#COMPREPLY[@]}} == 0 )) && ! (( directive & 4 )); then
        compopt -o default 2>/dev/null
    fi
}}
complete -o nosort -F {func} {binary} 2>/dev/null || complete -F {func} {binary}
"""


def zsh_script(binary: str) -> str:
    func = "_" + binary.replace("-", "_")
    return f"""#compdef {binary}
# zsh completion for {binary}
{func}() {{
    local -a lines completions
    local out directive line
    out=$("${{words[1]}}" __complete "${{(@)words[2,$((CURRENT-1))]}}" "${{words[CURRENT]}}" 2>/dev/null) || return
    lines=("${{(@f)out}}")
    directive=${{lines[-1]#:}}
    lines=("${{(@)lines[1,-2]}}")
    (( directive & 1 )) && return 1
    for line in $lines; do
        if [[ $line == *$'\\t'* ]]; then
            completions+=("${{line%%$'\\t'*}}:${{${{line#*$'\\t'}}//:/\\\\:}}")
        else
            completions+=("$line")
        fi
    done
    if (( ${{#completions}} )); then
        if (( directive & 2 )); then _describe -t values 'values' completions -S ''; else
            _describe -t values 'values' completions; fi
    elif ! (( directive & 4 )); then
        _files
    fi
}}
compdef {func} {binary}
"""


def fish_script(binary: str) -> str:
    func = "__" + binary.replace("-", "_") + "_complete"
    return f"""# fish completion for {binary}
function {func}
    set -l args (commandline -opc)
    set -e args[1]
    set -l out ({binary} __complete $args (commandline -ct) 2>/dev/null)
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    if test (math "$directive % 2") -eq 1
        return
    end
    for line in $out
        echo $line
    end
    if test (count $out) -eq 0; and test (math "floor($directive / 4) % 2") -eq 0
        __fish_complete_path (commandline -ct)
    end
end
complete -c {binary} -f -a '({func})'
"""


def completion_cmd(inv: Invocation) -> int:
    scripts = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}
    inv.out.write(scripts[inv.args.shell](inv.binary))
    inv.out.flush()
    return 0
