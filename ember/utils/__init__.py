"""``ember.utils``: data loading (``ember.utils.data``) and file-format helpers."""
