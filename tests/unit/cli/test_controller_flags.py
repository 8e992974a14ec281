"""The controller's Argo flags that choose API versions: the default, each accepted value (also from the
environment, as every controller flag), and a clear refusal of any other at start."""

from __future__ import annotations

import argparse

import pytest

from rollouts.cli.admin import add_controller_parser


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rollouts")
    add_controller_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["controller", *argv])


@pytest.mark.parametrize(("argv", "env", "version"), [
    ((), None, "v1alpha3"),
    (("--istio-api-version", "v1beta1"), None, "v1beta1"),
    (("--istio-api-version=v1",), None, "v1"),
    ((), "v1", "v1"),
], ids=["argo-default", "v1beta1", "v1", "from-environment"])
def test_istio_api_version(monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], env: str | None,
                           version: str) -> None:
    if env is not None:
        monkeypatch.setenv("ROLLOUTS_ISTIO_API_VERSION", env)
    assert parse(*argv).istio_api_version == version


def test_an_istio_api_version_istio_does_not_serve_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse("--istio-api-version", "v2")
    assert exit_.value.code == 2
    assert "argument --istio-api-version: invalid choice: 'v2' (choose from" in capsys.readouterr().err
