"""Generators of ground-truth invoices and of documents (XML, OFD) that carry them."""
