"""Repository functions: synchronous, one session per call (``db.session.session_scope``).

``db.repositories.enquiries``  enquiry log (bilan)
``db.repositories.tickets``    escalations (``TicketDraft``, ``create_ticket``)
"""
