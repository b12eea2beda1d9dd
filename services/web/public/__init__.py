"""The public pages: anyone's, in Arabic first, with no session and no staff cookie.

    tracking  a request opened by its reference and tracking code, for requesters without an
              account (paper, complaint box, phone)
"""
