"""A token from the environment (token_env) never reaches logs, status, errors or the database file.

The local server plays an API that answers 401, echoes the Authorization header back in its error
bodies, hides it in a redirect's query and in a 200 page that is not the API's JSON, all at once.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.support.cli import clean_env, monitor
from tests.support.leaks import assert_token_kept_out
from tests.support.server import FixtureServer, Reply, Seen

SEARCH_X = "/2/tweets/search/recent"
SEARCH_MASTODON = "/api/v2/search"


def echo(status: int, shape: str) -> object:
    def reply(seen: Seen) -> Reply:
        said = seen.headers.get("authorization", "")
        if shape == "json":
            body = json.dumps({"errors": [{"message": f"bad credentials: {said}"}], "title": said,
                               "detail": f"you sent {said}", "error": f"invalid token {said}"})
        else:
            body = f"<html><body><h1>Oops</h1><p>{said}</p></body></html>"  # cut mid-token at 60 bytes
        return Reply(status, body.encode(), {"Content-Type": "application/json" if shape == "json" else "text/html",
                                             "WWW-Authenticate": f'Bearer error="{said}"'})

    return reply


def leak_redirect(seen: Seen) -> Reply:
    token = seen.headers.get("authorization", "").removeprefix("Bearer ")
    return Reply(302, b"", {"Location": f"/leak/loop?access_token={token}#{token}"})


def routes(server: FixtureServer) -> dict[str, str]:
    """Feed name → base_url; each base answers the search in its own hostile way."""
    bases = {
        "x-401": ("/x401", SEARCH_X, echo(401, "json")),
        "x-200-html": ("/xhtml", SEARCH_X, echo(200, "html")),
        "x-400-json": ("/xjson", SEARCH_X, echo(400, "json")),
        "x-redirect": ("/xredir", SEARCH_X, leak_redirect),
        "mastodon-401": ("/m401", SEARCH_MASTODON, echo(401, "json")),
        "mastodon-200-error": ("/m200", SEARCH_MASTODON, echo(200, "json")),
    }
    for _name, (base, path, route) in bases.items():
        server.routes[base + path] = route  # type: ignore[assignment]
    server.routes["/leak/loop"] = leak_redirect
    return {name: server.url(base) for name, (base, _p, _r) in bases.items()}


def config(tmp_path: Path, bases: dict[str, str]) -> Path:
    text = '[[topics]]\nname = "volcano"\nkeywords = ["volcano"]\n\n'
    for name, base in bases.items():
        kind = name.split("-")[0]
        text += (f'[[feeds]]\nname = "{name}"\ntype = "{kind}"\ntopic = "volcano"\nbase_url = "{base}"\n'
                 f'token_env = "MONITOR_TEST_TOKEN"\ninterval = "1m"\n\n')
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return path


def test_the_token_never_leaves_the_request_header(tmp_path: Path, server: FixtureServer) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    env = clean_env(MONITOR_TEST_TOKEN=token)
    path = config(tmp_path, routes(server))

    outputs: dict[str, bytes] = {}
    for round_ in range(2):  # the second poll sends the (kept) validators and session too
        done = monitor("run", "--once", "-v", "--config", str(path), env=env, cwd=tmp_path, text=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        outputs[f"run {round_} stderr"] = done.stderr
        outputs[f"run {round_} stdout"] = done.stdout
    for argv in (("status",), ("status", "--json"), ("posts", "--json"), ("export",), ("clusters", "--json")):
        done = monitor(*argv, "--config", str(path), env=env, cwd=tmp_path, text=False)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        outputs[" ".join(argv)] = done.stdout + done.stderr

    heard = [s for s in server.log if s.headers.get("authorization") == f"Bearer {token}"]
    assert {s.path.split("/")[1] for s in heard} >= {"x401", "xhtml", "xjson", "xredir", "m401", "m200"}, \
        "every feed sent the token, so each echo had it to leak"

    status = json.loads(outputs["status --json"])
    errors = {f["name"]: f["last_error"] for f in status["feeds"]}
    assert all(errors.values()), f"every feed failed and says why: {errors}"
    assert "401" in errors["x-401"] and "401" in errors["mastodon-401"]

    assert_token_kept_out(token, outputs, tmp_path)
