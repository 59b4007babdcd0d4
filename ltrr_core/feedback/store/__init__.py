"""The feedback store: SQLite, the only SQL of LTR&R Studio.

``core`` holds the connection per thread, transactions and schema migrations; one repository
module per record kind adds its methods; ``feedback_store.FeedbackStore`` composes them.
"""
