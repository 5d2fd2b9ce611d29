"""One module per page (datasette style): each exposes `router` with the page's route.

Views are `async def` although they do no I/O: each renders in about a millisecond from cached
content, and running on the event loop avoids a thread hand-off per request (measured: under 50
concurrent clients the thread pool, not the rendering, dominated the latency).
"""
