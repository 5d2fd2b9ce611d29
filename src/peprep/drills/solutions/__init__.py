"""Reference solutions of the drills: standalone PyTorch, one file per drill.

What `peprep drill` shows when the candidate asks for the answer, and the source of each drill's
skeleton (`peprep.drills.skeleton` keeps the signatures and docstrings and drops the bodies). Tests
prove that every file here passes its drill's check (tests/drills/test_solutions.py).
"""
