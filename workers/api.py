"""Account endpoints: token, self-registration of workers, and the caller's own summary."""

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from sebenzai.common.serializers import StrictSerializer

from .models import Role
from .services import points_total, user_create, user_role


class LoginThrottle(AnonRateThrottle):
    scope = "login"


class RegisterThrottle(AnonRateThrottle):
    scope = "register"


class TokenView(ObtainAuthToken):
    """POST username and password, get ``{"token": ...}``."""

    throttle_classes = [LoginThrottle]


class RegisterSerializer(StrictSerializer):
    username = serializers.RegexField(r"^[\w.@+-]{3,150}$", max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True)


@extend_schema(request=RegisterSerializer, responses={201: dict})
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([RegisterThrottle])
def register(request):
    """Workers sign themselves up; requester accounts are made by an admin."""
    serializer = RegisterSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    user = user_create(role=Role.WORKER, **serializer.validated_data)
    token, _ = Token.objects.get_or_create(user=user)
    return Response(
        {"username": user.username, "role": Role.WORKER, "token": token.key}, status=201
    )


@extend_schema(responses={200: dict})
@api_view(["GET"])
def me(request):
    user = request.user
    answers = user.annotations.aggregate(n=Count("id"))["n"]
    return Response(
        {
            "username": user.username,
            "role": user_role(user=user),
            "is_staff": user.is_staff,
            "points": points_total(user=user),
            "answers": answers,
        }
    )
