using System.Net.Http.Json;
using CloudStore.Contracts;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>The sign-in conversation a person has with the API, against the in-process app or a real host.</summary>
public static class SignInFlow
{
    /// <param name="client">A client whose base address is the functions host.</param>
    public static async Task<TokenResponse> SignInAsync(HttpClient client, TestUser user, TimeProvider clock)
    {
        var response = await PostAsync<SignInResponse>(client, "/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        switch (response.Status)
        {
            case SignInResponse.AuthenticatorEnrolmentRequired:
                var setup = await PostAsync<AuthenticatorSetupResponse>(client, "/api/auth/authenticator/setup", new ChallengeRequest(response.Challenge!));
                user.AuthenticatorKey = setup.SharedKey;
                user.LastTotpStep = null;
                response = await PostAsync<SignInResponse>(client, "/api/auth/authenticator/confirm",
                    new AuthenticatorConfirmRequest(response.Challenge, await user.NextCodeAsync(clock)));
                user.RecoveryCodes = response.RecoveryCodes ?? [];
                break;
            case SignInResponse.TwoFactorRequired:
                response = await PostAsync<SignInResponse>(client, "/api/auth/two-factor",
                    new TwoFactorRequest(response.Challenge!, await user.NextCodeAsync(clock), null));
                break;
        }

        Assert.Equal(SignInResponse.SignedIn, response.Status);
        user.Tokens = response.Tokens!;
        return user.Tokens;
    }

    static async Task<T> PostAsync<T>(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
