"""Account endpoints: a token for a username and password, and workers' self-registration."""

from django.contrib.auth import authenticate
from django.core.validators import RegexValidator
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import (
    api_view,
    parser_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from sebenzai.common.errors import Conflict, DomainError
from sebenzai.common.parsers import JSONParser
from sebenzai.common.serializers import StrictCharField, StrictSerializer
from sebenzai.common.throttles import SignInThrottle, device_cookie_set

from .models import Role
from .services import user_create


class RegisterThrottle(AnonRateThrottle):
    scope = "register"


class TokenRequestSerializer(StrictSerializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class TokenView(ObtainAuthToken):
    """POST username and password, get ``{"token": ...}``."""

    throttle_classes = [SignInThrottle]
    serializer_class = TokenRequestSerializer
    parser_classes = [FormParser, MultiPartParser, JSONParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request=request, **serializer.validated_data)
        if user is None:
            # The same answer for a wrong password, an unknown name and a disabled account.
            raise DomainError(
                code="invalid_credentials",
                field="password",
                message="Unable to log in with this username and password.",
            )
        token, _ = Token.objects.get_or_create(user=user)
        response = Response({"token": token.key})
        device_cookie_set(response, user.get_username())
        return response


class RegisterSerializer(StrictSerializer):
    username = StrictCharField(
        max_length=150,
        validators=[
            RegexValidator(
                r"^[\w.@+-]{3,150}$",
                "3 to 150 letters, digits and . @ + - _ only.",
                code="invalid_username",
            )
        ],
    )
    password = StrictCharField(max_length=128, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True)


@extend_schema(request=RegisterSerializer, responses={201: dict})
@api_view(["POST"])
@parser_classes([JSONParser, FormParser])
@permission_classes([AllowAny])
@throttle_classes([RegisterThrottle])
def register(request):
    """Workers sign themselves up; requester accounts are made by an admin."""
    serializer = RegisterSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        user = user_create(role=Role.WORKER, **serializer.validated_data)
    except IntegrityError as exc:
        # Two sign-ups with one name at the same moment: the unique index decides, not a 500.
        raise Conflict(
            code="username_taken", field="username", message="This username is taken."
        ) from exc
    token, _ = Token.objects.get_or_create(user=user)
    return Response(
        {"username": user.username, "role": Role.WORKER, "token": token.key}, status=201
    )
