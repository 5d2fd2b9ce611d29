"""`peprep serve`: run the app with uvicorn on the loopback interface (elsewhere only when asked)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(host: str = "127.0.0.1", port: int = 8000, content_dir: Path | None = None, reload: bool = False,
          db_path: Path | None = None, allow_remote: bool = False) -> None:
    """Serve the web app until interrupted. Loopback only unless `allow_remote`: the app is a personal
    study tool, not a network service (no login). With `allow_remote` a warning is printed and the
    guard also accepts Host headers naming `host` (any IP literal for 0.0.0.0 / ::); DNS names other
    than localhost stay refused (DNS rebinding). Content that cannot be loaded stops start-up with
    the loader's file:line list, not a traceback.

    Example:
        serve(port=8001)   # then open http://127.0.0.1:8001/
    """
    import uvicorn

    from peprep.content.loader import ContentError, default_content_dir

    remote = host not in LOOPBACK
    if remote and (not allow_remote or reload):
        raise ValueError(f"host must be a loopback address {LOOPBACK}, not {host!r}, unless allow_remote=True "
                         "(peprep serve --host ADDR --allow-remote; not with reload)")
    if remote:
        print(remote_warning(host, port), file=sys.stderr)
    content = Path(content_dir).resolve() if content_dir else default_content_dir()
    if reload:
        # The reloader imports the app by name in a child process, so the content folder travels
        # in the environment that `default_content_dir()` reads.
        os.environ["PEPREP_CONTENT"] = str(content)
        if db_path is not None:  # the progress file travels the same way (`default_db_path()`)
            os.environ["PEPREP_DB"] = str(Path(db_path).resolve())
        uvicorn.run("peprep.web.app:create_app", factory=True, host=host, port=port, reload=True,
                    reload_dirs=[str(Path(__file__).resolve().parents[1]), str(content)], server_header=False)
        return
    from peprep.web.app import create_app

    try:
        app = create_app(content, db_path=db_path, remote_host=host if remote else None)
    except ContentError as exc:
        raise SystemExit(f"{exc}\nfix these (peprep check lists them too), then start the server again") from None
    if problem := app.state.practice.check():  # the content pages still serve; practice pages explain
        print(f"warning: {problem}", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


def remote_warning(host: str, port: int) -> str:
    return (f"warning: serving on {host}:{port}, reachable from other machines. peprep has no login: anyone who "
            "can reach this address can read the content and your answers and change your progress. "
            "Stop it (Ctrl-C) unless you meant this.")
