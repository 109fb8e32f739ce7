"""Thor's ops command line: `python -m ops <command> …` (`--help` on each command).

  events          list what needs a person (failed, blocked, unmatched, and received but not completed
                  for over 15 minutes), or events by tenant, status, time
  stats           events accepted / completed / failed / blocked per tenant
  replay          replay one event, or a tenant's / a time range's events
  order           an order's full history: items, tracking, refunds, OMS sync, timeline, events
  resync          re-sync an order from the marketplace now (and to the OMS), printing the outcome
  reconcile       run the reconciliation with the marketplace now (or show the last runs)
  stock           stock sync per tenant: dirty SKUs, last flush, failures; --flush, --resync,
                  --pause REASON / --resume (the kill switch)
  prices          price sync per tenant: marked / held / refused SKUs, last feed; --flush, --resync,
                  --pause / --resume, --confirm SKU (a held price), --sku SKU (its journey), --sale
  zort-webhooks   show or register Thor's webhook URLs in a tenant's ZORT store
  check-settings  which systems each tenant is configured for, and what is missing (secrets masked)

Settings come from the environment and, when present, from local.settings.json's `Values`
(`--settings PATH`; the environment wins), exactly as the Functions app reads them: the same
command works against Azurite locally and against Azure (identity-based storage settings such as
`AzureWebJobsStorage__accountName`, with `az login` or a managed identity).

Exit codes: 0 ok; 1 not found or a failure; 2 bad usage or settings.
"""
# Not deployed (.funcignore) and imported by nothing in shared/ or functions/: the library stays the
# functions' own. Each command is a module here (arguments, then printing); the work it orders is a
# service in shared/services (operations.py, reconciliation.py, processing.py).
