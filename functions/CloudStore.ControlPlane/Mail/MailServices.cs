using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Mail;

public static class MailServices
{
    /// <summary>The SMTP relay, its settings checked on start.</summary>
    public static IServiceCollection AddMail(this IServiceCollection services)
    {
        services.AddOptions<MailOptions>().BindConfiguration(MailOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsValidation>();
        return services.AddSingleton<IMailSender, SmtpMailSender>();
    }

    sealed class MailOptionsValidation : IValidateOptions<MailOptions>
    {
        public ValidateOptionsResult Validate(string? name, MailOptions options) =>
            MailOptions.Problems(options).ToList() is { Count: > 0 } problems
                ? ValidateOptionsResult.Fail(problems)
                : ValidateOptionsResult.Success;
    }
}
