"""`peprep serve`: run the app with uvicorn on the loopback interface only."""

from __future__ import annotations

import os
from pathlib import Path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(host: str = "127.0.0.1", port: int = 8000, content_dir: Path | None = None, reload: bool = False) -> None:
    """Serve the web app until interrupted. Only loopback addresses are accepted: the app is a
    personal study tool, not a network service (its guard also refuses non-loopback Host headers).
    Content that cannot be loaded stops start-up with the loader's file:line list, not a traceback.

    Example:
        serve(port=8001)   # then open http://127.0.0.1:8001/
    """
    import uvicorn

    from peprep.content.loader import ContentError, default_content_dir

    if host not in LOOPBACK:
        raise ValueError(f"host must be a loopback address {LOOPBACK}, not {host!r}")
    content = Path(content_dir).resolve() if content_dir else default_content_dir()
    if reload:
        # The reloader imports the app by name in a child process, so the content folder travels
        # in the environment that `default_content_dir()` reads.
        os.environ["PEPREP_CONTENT"] = str(content)
        uvicorn.run("peprep.web.app:create_app", factory=True, host=host, port=port, reload=True,
                    reload_dirs=[str(Path(__file__).resolve().parents[1]), str(content)], server_header=False)
        return
    from peprep.web.app import create_app

    try:
        app = create_app(content)
    except ContentError as exc:
        raise SystemExit(f"{exc}\nfix these (peprep check lists them too), then start the server again") from None
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
