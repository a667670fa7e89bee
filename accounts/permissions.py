from rest_framework.permissions import BasePermission

from accounts.models import Role
from accounts.services import user_role


class IsRequester(BasePermission):
    message = "Only requester accounts can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and (user.is_staff or user_role(user=user) == Role.REQUESTER)
        )


class IsWorker(BasePermission):
    message = "Only worker accounts can do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user_role(user=user) == Role.WORKER)
