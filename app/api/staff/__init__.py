"""The staff JSON API under ``/api/v1/staff``: the console's users, scopes and services, as JSON.

For the regional 基层治理 platform and for scripts. A staff member trades username and
password for a signed bearer token (``tokens``); every later call re-checks the account and
works through the same scope helper, inbox query and pipeline as the console (``opinions``),
so no rule exists twice. ``views`` holds the routes, ``schemas`` their documented shapes.
"""
