"""The user admin, guarded: only a superuser may grant staff or superuser status, permissions or
groups. Django's stock UserAdmin lets any staff member with ``auth.change_user`` make themselves
a superuser."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class GuardedUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [name for name in PRIVILEGE_FIELDS if name not in fields]
        return fields


admin.site.unregister(User)
admin.site.register(User, GuardedUserAdmin)
