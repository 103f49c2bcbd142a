using System.Globalization;

namespace Promptd.Core.Models;

public static class ByteSize
{
    /// <summary>"512 B", "12.3 MiB", "4.07 GiB": three significant digits in binary units.</summary>
    public static string Format(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        ReadOnlySpan<string> units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        string format = value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00";
        return value.ToString(format, CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
