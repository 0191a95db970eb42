"""What the library gives its readers: search, the operations dashboard, exports, ratings and correction
requests."""
