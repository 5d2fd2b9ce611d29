"""Practice (design.md, "Practice"): turning the question bank into recall under pressure.

One concept per module:

    cards.py      what a card is: every question and follow-up (追问), keyed by its full id
    scheduler.py  when a card comes back: FSRS (py-fsrs) with an injected clock
    store.py      the SQLite progress file: cards as FSRS JSON, an append-only review log, mock sessions
    transfer.py   `peprep progress export/import`: the versioned JSON form of the store
    review.py     a review session: due cards first, then new ones under a daily limit
    mock.py       the mock interviewer: walks the 追问 chain, times answers, writes a scorecard
    progress.py   per-chapter counts, retention, forecast, weakest knowledge points
    textmath.py   LaTeX as readable Unicode text for the terminal
"""
