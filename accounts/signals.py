"""An API token dies with the password it was obtained with, and with the account's activity:
whoever changes a stolen password, or an admin who disables an account, shuts out every script
holding the old token. (Sessions need nothing: Django ties them to the password hash.)"""

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token


@receiver(pre_save, sender=get_user_model())
def revoke_tokens_on_password_change(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every sign-in: nothing that could revoke a token
    stored = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    if stored["password"] != instance.password or (stored["is_active"] and not instance.is_active):
        Token.objects.filter(user_id=instance.pk).delete()
