"""`kubectl rollouts notifications ...` with the ConfigMap, Secret and Rollout from files (no cluster)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rollouts.cli.main import main
from tests.support.vendors import vendors
from tests.unit.notifications.objects import ROLLOUT

CONFIGMAP = {
    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "argo-rollouts-notification-configmap"},
    "data": {
        "trigger.on-rollout-aborted": "- send: [rollout-aborted]",
        "trigger.on-purple": "- send: [rollout-aborted, rollout-aborted-slack]\n"
                             "  when: rollout.spec.template.spec.containers[0].image == 'purple'",
        "template.rollout-aborted": "message: Rollout {{.rollout.metadata.name}} has been aborted.\n"
                                    "email:\n  subject: '{{.rollout.metadata.namespace}}: aborted'",
        "template.rollout-aborted-slack": "slack:\n  attachments: '[{\"title\": \"{{.rollout.metadata.name}}\"}]'",
        "template.broken": "message: '{{.rollout.metadata.name'",
        "service.webhook.hook": "url: $hook-url",
    },
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "cm.yaml").write_text(yaml.safe_dump(CONFIGMAP))
    (tmp_path / "ro.yaml").write_text(yaml.safe_dump(ROLLOUT))
    return {"cm": str(tmp_path / "cm.yaml"), "ro": str(tmp_path / "ro.yaml"), "dir": str(tmp_path)}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["notifications", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_template_get_lists_templates_with_a_preview_and_reports_broken_ones(
        files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "template", "get", "--config-map", files["cm"], "--secret", ":empty")
    assert code == 0
    assert out.splitlines() == [
        "NAME                   PREVIEW",
        "rollout-aborted        Rollout {{.rollout.metadata.name}} has been aborted.",
        "rollout-aborted-slack  (per-service fields)",
    ]
    assert "template broken: message: template: broken:1: unclosed action" in err
    assert "references $hook-url, but the notification Secret has no key 'hook-url'" in err
    code, out, _ = _run(capsys, "template", "get", "rollout-aborted", "-o", "name", "--config-map", files["cm"],
                        "--secret", ":empty")
    assert (code, out) == (0, "rollout-aborted\n")


def test_trigger_get_and_run(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "trigger", "get", "--config-map", files["cm"], "--secret", ":empty")
    assert code == 0 and out.splitlines()[0].split() == ["NAME", "TEMPLATE", "CONDITION"]
    assert "on-purple           rollout-aborted, rollout-aborted-slack  rollout.spec" in out
    code, out, _ = _run(capsys, "trigger", "run", "on-rollout-aborted", files["ro"], "--config-map", files["cm"],
                        "--secret", ":empty")
    assert code == 0 and out.splitlines()[1].split() == ["false"]  # an empty condition is false, as Argo prints
    code, _, err = _run(capsys, "trigger", "run", "on-typo", files["ro"], "--config-map", files["cm"],
                        "--secret", ":empty")
    assert code == 1 and err.strip().splitlines()[-1] == ("error: trigger with name 'on-typo' does not exist "
                                                          "(found on-purple, on-rollout-aborted)")


def test_template_notify_renders_to_the_console_by_default(files: dict[str, str],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "template", "notify", "rollout-aborted", files["ro"], "--config-map", files["cm"],
                        "--secret", ":empty")
    assert code == 0
    assert yaml.safe_load(out) == {"message": "Rollout checkout has been aborted.", "email": {"subject": "shop: aborted"}}
    code, _, err = _run(capsys, "template", "notify", "nope", files["ro"], "--config-map", files["cm"],
                        "--secret", ":empty")
    assert code == 1 and err.strip().splitlines()[-1] == "error: template 'nope' is not supported"


async def test_template_notify_sends_through_a_configured_service(files: dict[str, str]) -> None:
    async with vendors() as v:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "argo-rollouts-notification-secret"},
                  "stringData": {"hook-url": f"{v.base}/hooks/cli"}}
        _write(Path(files["dir"], "secret.yaml"), yaml.safe_dump(secret))
        proc = await _plugin("notifications", "template", "notify", "rollout-aborted", files["ro"], "--recipient",
                             "hook", "--config-map", files["cm"], "--secret", str(Path(files["dir"], "secret.yaml")))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "notification sent to hook"
        [req] = v.received("/hooks/cli")
        assert (req.method, req.body.decode()) == ("GET", "Rollout checkout has been aborted.")


def _write(path: Path, text: str) -> None:
    path.write_text(text)


async def _plugin(*argv: str) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "rollouts.cli.main", *argv],
                                   capture_output=True, text=True, timeout=60, check=False)


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["notifications", "template", "frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
