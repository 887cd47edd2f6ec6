"""An API token never outlives the password it was issued for.

Every way to change a password (the password change page, a reset link, the admin,
`manage.py changepassword`, code calling set_password() then save()) ends in the user's
save(), so the tokens are revoked there: a signal is the one hook all of them share.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from rest_framework.authtoken.models import Token


def revoke_tokens_when_the_password_changes(sender, instance, created, **kwargs):
    # set_password() keeps the new password in `_password` until save() has told the password
    # validators (Django's own "password changed" signal); the hash upgrade check_password() does at
    # login clears it before saving, so it revokes nothing.
    if not created and getattr(instance, "_password", None) is not None:
        Token.objects.filter(user=instance).delete()


def connect():
    post_save.connect(
        revoke_tokens_when_the_password_changes, sender=get_user_model(), dispatch_uid="syro-revoke-tokens"
    )
