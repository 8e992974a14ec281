"""The dashboard in a real headless Chromium (Debian's `chromium`, driven through Debian's `chromedriver` by
Selenium), against the real control plane with the real controller and Application reconciler: a paused canary
is shown, the Promote button promotes it live without reloading and Abort aborts it; a forbidden action is a
sentence in the page; an Application's health, sync status and
commit are shown, with markup in the commit message shown as text.

Few and lean on purpose: what the pages contain is tested through the JSON API (test_api.py); these check that
the page draws it, that the buttons work and that live updates arrive.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rollouts.controller.runtime import Controller
from rollouts.gitops.reconciler import GitopsConfig
from rollouts.kube.client import KubeClient
from rollouts.kube.resources import APPLICATION, ROLLOUT
from tests.integration.gitops.conftest import application, cm, reconciler_running
from tests.support.dashboard import dashboard
from tests.support.plugin import MANUAL_STEPS, Kubectl, create, service_account_token, write_token_kubeconfig
from tests.support.rollouts import canary_rollout, get_rollout, set_image, wait_phase
from tests.support.wait import eventually
from tests.unit.gitops.gitrepo import GitRepo

pytestmark = pytest.mark.integration
webdriver = pytest.importorskip("selenium.webdriver")
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "testbed/system-deps.sh installs chromium and chromium-driver"
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


async def until(driver: Any, check: Callable[[Any], Any], *, timeout: float, expected: str) -> Any:
    """Wait in a thread (the controller runs on this event loop) until `check(driver)` is truthy."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page redraws when the cluster changes: an element found a moment ago may be gone; look again
    wait = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
    try:
        return await asyncio.to_thread(wait.until, check)
    except TimeoutException:
        body = await asyncio.to_thread(lambda: driver.find_element("tag name", "main").text)
        raise AssertionError(f"after {timeout}s: expected {expected}; the page shows:\n{body[:2000]}") from None


def text_of(selector: str) -> Callable[[Any], str]:
    def read(driver: Any) -> str:
        from selenium.common.exceptions import StaleElementReferenceException

        try:
            found = driver.find_elements("css selector", selector)
            return str(found[0].text) if found else ""
        except StaleElementReferenceException:
            return ""
    return read


async def click(driver: Any, selector: str) -> None:
    await until(driver, lambda d: d.find_element("css selector", selector).click() or True, timeout=10,
                expected=f"{selector} to click")


async def test_paused_canary_and_promote_live(browser: Any, kube: KubeClient, namespace: str, kubeconfig: Path,
                                              controller: Controller) -> None:
    await create(kube, namespace, "web", MANUAL_STEPS)
    await set_image(kube, namespace, "web", "example/app:green")
    await wait_phase(kube, namespace, "web", "Paused", timeout=60)
    async with dashboard(kubeconfig, "-n", namespace) as ui:
        await asyncio.to_thread(browser.get, f"{ui.url}#/rollouts")
        row = "main tbody tr"
        await until(browser, lambda d: "web" in text_of(row)(d) and "Paused" in text_of(row)(d), timeout=20,
                    expected="the paused canary's row in the list")
        assert text_of(".pager .range")(browser) == "1\N{EN DASH}1 of 1"
        search = browser.find_element("id", "rollout-search")
        await asyncio.to_thread(search.send_keys, "no-such-rollout")
        await until(browser, lambda d: text_of(".pager .range")(d) == "0 of 0" and not text_of(row)(d), timeout=5,
                    expected="the search to hide the row")
        await asyncio.to_thread(search.clear)
        await asyncio.to_thread(browser.get, f"{ui.url}#/rollouts/{namespace}/web")
        await until(browser, lambda d: text_of("#step")(d) == "1/4" and "Paused" in text_of("h1")(d), timeout=20,
                    expected="the paused canary at step 1/4")
        assert text_of("#set-weight")(browser) == "20"
        assert text_of(".steps li.current")(browser) == "2. Pause (until promoted)"

        await click(browser, 'button[data-action="promote"]')
        await until(browser, lambda d: d.find_element("id", "confirm").is_displayed(), timeout=5,
                    expected="the confirmation dialog")
        assert "Promote rollout 'web'" in text_of("#confirm-text")(browser)
        await click(browser, "#confirm-ok")
        await until(browser, lambda d: text_of("#outcome")(d) == "rollout 'web' promoted", timeout=10,
                    expected="the plugin's line after Promote")
        # no reload: the event stream redraws the page as the controller moves on to the next pause
        await until(browser, lambda d: text_of("#step")(d) == "3/4", timeout=60, expected="step 3/4 after promote")
        assert (await get_rollout(kube, namespace, "web"))["status"]["currentStepIndex"] == 3

        await click(browser, 'button[data-action="abort"]')
        await until(browser, lambda d: d.find_element("id", "confirm").is_displayed(), timeout=5,
                    expected="the confirmation dialog")
        await click(browser, "#confirm-ok")
        await until(browser, lambda d: text_of("#outcome")(d) == "rollout 'web' aborted", timeout=10,
                    expected="the plugin's line after Abort")
        await wait_phase(kube, namespace, "web", "Degraded", timeout=60)
        await until(browser, lambda d: "Degraded" in text_of("h1")(d), timeout=30, expected="Degraded on the page")


async def test_a_forbidden_action_is_a_sentence_in_the_page(browser: Any, kube: KubeClient, namespace: str,
                                                            kubeconfig: Path, kubectl_bin: str, crds: None,
                                                            tmp_path: Path) -> None:
    await kube.create(ROLLOUT, canary_rollout("web", replicas=1, steps=[{"pause": {}}]), namespace)
    token = await service_account_token(kube, Kubectl(kubectl_bin, kubeconfig), namespace)
    reader = write_token_kubeconfig(kubeconfig, token, tmp_path / "reader.kubeconfig")
    async with dashboard(reader, "-n", namespace) as ui:
        await asyncio.to_thread(browser.get, f"{ui.url}#/rollouts/{namespace}/web")
        await until(browser, lambda d: "permission denied (RBAC 403) to list replicasets" in text_of(".problem")(d),
                    timeout=20, expected="the kinds the reader may not list, named")
        await click(browser, 'button[data-action="pause"]')
        await until(browser, lambda d: d.find_element("id", "confirm").is_displayed(), timeout=5,
                    expected="the confirmation dialog")
        await click(browser, "#confirm-ok")
        await until(browser, lambda d: text_of("#outcome [role=alert]")(d).startswith(
            f"permission denied (RBAC 403) to pause rollout 'web' in namespace '{namespace}'"), timeout=10,
            expected="the 403 as a sentence")


async def test_applications_page_shows_health_and_commit_as_text(browser: Any, kube: KubeClient, namespace: str,
                                                                 kubeconfig: Path, crds: None,
                                                                 tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "git")
    repo.write("app/cm.yaml", cm("settings"))
    repo.commit(f"settings {XSS}")
    config = GitopsConfig(namespace=namespace, workers=2, poll_interval=2.0, cache_dir=tmp_path / "cache")
    async with reconciler_running(kube, config), dashboard(kubeconfig, "-n", namespace) as ui:
        await kube.create(APPLICATION, application("guestbook", repo, namespace, automated={}), namespace)
        await eventually(lambda: kube.get(APPLICATION, "guestbook", namespace),
                         lambda a: (a.get("status") or {}).get("health", {}).get("status") == "Healthy",
                         timeout=60, expected="the Application Healthy")
        await asyncio.to_thread(browser.get, f"{ui.url}#/applications")
        tile = 'article[aria-label="Application guestbook"]'
        await until(browser, lambda d: "Healthy" in text_of(tile)(d) and "Synced" in text_of(tile)(d), timeout=20,
                    expected="the guestbook tile Healthy and Synced")
        assert text_of(f"{tile} .commit-message")(browser) == f"settings {XSS}"
        assert browser.execute_script("return window.__xss === undefined"), "markup in a commit message ran"

        search = browser.find_element("id", "filter-search")
        await asyncio.to_thread(search.send_keys, "no-such-app")
        await until(browser, lambda d: not d.find_elements("css selector", tile), timeout=5,
                    expected="the search to hide the tile")
        await asyncio.to_thread(search.clear)
        await asyncio.to_thread(browser.get, f"{ui.url}#/applications/{namespace}/guestbook")
        await until(browser, lambda d: "ConfigMap" in text_of(".tree")(d), timeout=20,
                    expected="the resource tree with the ConfigMap")
        assert "settings" in text_of(".tree")(browser)
        assert text_of(".network-view")(browser) == "No Ingresses, HTTPRoutes or Services in this Application."
        await click(browser, 'button[data-action="diff"]')
        await until(browser, lambda d: text_of("#diff")(d) == "No differences: live matches Git.", timeout=30,
                    expected="the diff computed on demand: nothing differs from Git")
