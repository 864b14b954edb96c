"""A credit model trained and evaluated on a lender's own loan book, exported as CSV from its own system."""
