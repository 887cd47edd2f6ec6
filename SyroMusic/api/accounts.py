"""You (/me/), your token, and other listeners' profiles and follows."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse

from SyroMusic.models import Follow, Profile

from . import serializers


@extend_schema(methods=["get"], responses=serializers.MeSerializer)
@extend_schema(methods=["patch"], request=serializers.MyProfileSerializer, responses=serializers.MeSerializer,
               description="Change your bio, whether your profile is public, your time zone (your days and months are "
               "counted again in it) and whether others may see your listening stats.")
@api_view(["GET", "PATCH"])
@permission_classes([permissions.IsAuthenticated])
def me(request):
    """Who you are logged in as, with your profile."""
    user = request.user
    profile = Profile.of(user)
    if request.method == "PATCH":
        data = serializers.MyProfileSerializer(profile, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        profile = data.save()
    return Response(
        {
            "id": user.pk,
            "username": user.get_username(),
            "is_staff": user.is_staff,
            "bio": profile.bio,
            "is_public": profile.is_public,
            "time_zone": profile.time_zone,
            "stats_public": profile.stats_public,
            "playlists_url": reverse("api:me-playlists-list", request=request),
        }
    )


@extend_schema(
    methods=["POST"], request=serializers.AuthTokenSerializer,
    responses={200: {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}},
)
@extend_schema(methods=["DELETE"], request=None, responses={204: None})
@api_view(["POST", "DELETE"])
@permission_classes([permissions.AllowAny])
@throttle_classes([])  # not the hourly budget: the login limiter guards it, as it guards every password login
def token(request):
    """POST username and password to get your API token; DELETE (authenticated) revokes it."""
    if request.method == "DELETE":
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
    credentials = serializers.AuthTokenSerializer(data=request.data, context={"request": request})
    credentials.is_valid(raise_exception=True)
    issued, _ = Token.objects.get_or_create(user=credentials.validated_data["user"])
    return Response({"token": issued.key})


@extend_schema(methods=["get"], responses=serializers.ProfileSerializer)
@extend_schema(methods=["post", "delete"], request=None, responses=serializers.ProfileSerializer,
               description="POST follows the listener, DELETE unfollows.")
@api_view(["GET", "POST", "DELETE"])
@permission_classes([permissions.IsAuthenticatedOrReadOnly])
def user_profile(request, username):
    """A listener's profile; a private one shows nothing but the name."""
    person = get_object_or_404(get_user_model().objects.select_related("profile"), username=username)
    if request.method == "POST":
        try:
            Follow.objects.follow(request.user, person)
        except DjangoValidationError as error:
            raise ValidationError({"username": error.messages}) from None
    elif request.method == "DELETE":
        Follow.objects.unfollow(request.user, person)
    profile = Profile.of(person)
    visible = profile.visible_to(request.user)
    followers, following = Follow.objects.counts_for(person) if visible else (None, None)
    you_follow = Follow.objects.follows(request.user, person) if request.user.is_authenticated else None
    return Response({
        "username": person.get_username(), "is_public": profile.is_public, "bio": profile.bio if visible else None,
        "followers": followers, "following": following, "you_follow": you_follow,
    })
