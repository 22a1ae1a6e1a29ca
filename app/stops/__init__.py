"""Public transport stops: the review pages for operators and the open API."""
