"""E-mail in and out for the desk (imports core and db only).

* ``smtp_server``: an embedded SMTP receiver (aiosmtpd) the organisation's mail
  server forwards the PCN's mail to (``PCN_INBOUND_SMTP_HOST``/``_PORT``);
* ``imap_poller``: polls an existing mailbox (``PCN_IMAP_*``);
* ``parse`` → ``ingest``: one received mail becomes a ticket (or joins one);
* ``outbox``: sends the acknowledgements and replies waiting in the outbox.

``python -m mail`` runs all of it as a desk process (``make run`` starts it).
"""
