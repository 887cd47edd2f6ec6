"""Web pieces shared by every face (pages, API, admin): problem responses, middleware, limits.

They know HTTP but no screen and no wire format of their own; the faces sit above them.
"""
