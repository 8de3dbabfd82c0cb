using CloudStore.Contracts;
using CloudStore.ControlPlane.Devices;

namespace CloudStore.ControlPlane.Decommissioning;

/// <summary>The administrator's choice for a deleted camera's recordings as the API spells it (pure).</summary>
public static class RecordingsChoiceText
{
    public static bool TryParse(string? text, out RecordingsChoice choice)
    {
        choice = default;
        if (string.Equals(text, RecordingsChoices.Delete, StringComparison.Ordinal))
        {
            choice = RecordingsChoice.Delete;
            return true;
        }

        if (string.Equals(text, RecordingsChoices.Keep, StringComparison.Ordinal))
        {
            choice = RecordingsChoice.Keep;
            return true;
        }

        return false;
    }

    public static string ToText(RecordingsChoice choice) => choice == RecordingsChoice.Delete ? RecordingsChoices.Delete : RecordingsChoices.Keep;

    /// <summary>What happens next to a camera's recordings, in words, for the deletion's answer.</summary>
    public static string Explain(RecordingsChoice choice, int activeHolds)
    {
        var next = choice == RecordingsChoice.Delete
            ? "Its recordings are deleted from storage and the index at the next hourly sweep"
            : "Its recordings stay listed and playable until their retention ends; then the hourly sweep deletes them";
        return activeHolds == 0
            ? next + "."
            : next + $", except those under its {activeHolds} active legal hold(s), which are kept until each hold is released.";
    }
}
