"""The only code that changes the user's files: plan, re-check, move to the trash, put back."""
