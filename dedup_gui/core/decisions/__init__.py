"""What the user decided, kept across sessions: not duplicates, marks, reviewed groups, the
trash log; sorting and filtering for review.
"""
