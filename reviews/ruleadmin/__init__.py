"""Rule administration: the pages and API where admins edit screening rules, see
their versions and try a change against past invoices ("what if").
Part of the reviews layer: may import the rest of ``reviews`` (the rules and checks)
and every lower layer.
"""
