using System.Text;
using Promptd.Core.Knowledge;

namespace Promptd.Core.Tests.Knowledge;

public sealed class ContentTypeAndDecodingTests
{
    [Theory]
    [InlineData("text/plain", DocumentFormat.PlainText, "text/plain", null)]
    [InlineData("text/markdown", DocumentFormat.Markdown, "text/markdown", null)]
    [InlineData("text/x-markdown; charset=utf-8", DocumentFormat.Markdown, "text/markdown", "utf-8")]
    [InlineData("TEXT/HTML; Charset=\"ISO-8859-1\"", DocumentFormat.Html, "text/html", "iso-8859-1")]
    [InlineData("text/html;charset=windows-1252", DocumentFormat.Html, "text/html", "windows-1252")]
    [InlineData(" text/plain ; format=flowed", DocumentFormat.PlainText, "text/plain", null)]
    public void ParsesSupportedTypes(string header, DocumentFormat format, string mediaType, string? charset) =>
        Assert.Equal(new DocumentContentType(format, mediaType, charset), DocumentContentType.Parse(header));

    [Theory]
    [InlineData("application/pdf", "unsupported content type 'application/pdf'")]
    [InlineData("image/png", "unsupported content type 'image/png'")]
    [InlineData("text/csv", "unsupported content type 'text/csv'")]
    [InlineData("application/json", "unsupported content type 'application/json'")]
    [InlineData("application/xhtml+xml", "unsupported content type 'application/xhtml+xml'")]
    [InlineData("", "no content type given")]
    [InlineData("text/plain; charset=klingon", "unsupported charset 'klingon'")]
    public void RejectsEverythingElse(string header, string reason)
    {
        var e = Assert.Throws<UnsupportedContentTypeException>(() => DocumentContentType.Parse(header));
        Assert.Equal($"{reason}: upload text/plain, text/markdown or text/html", e.Message);
        Assert.Equal(header, e.ContentType);
    }

    public static TheoryData<byte[], string, string> Decodings => new()
    {
        // bytes                                                           content type                          text
        { Encoding.UTF8.GetBytes("café ✓"),                                "text/plain",                         "café ✓" },
        { [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("bom")],            "text/plain; charset=iso-8859-1",     "bom" },
        { [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("le ✓")],              "text/plain",                         "le ✓" },
        { [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes("be ✓")],     "text/plain",                         "be ✓" },
        { [0x63, 0x61, 0x66, 0xE9],                                        "text/plain; charset=iso-8859-1",     "café" },
        { [0x80, 0x35],                                                    "text/plain; charset=windows-1252",   "€5" },
        { [.. Encoding.ASCII.GetBytes("<meta charset=\"iso-8859-1\"><p>caf"), 0xE9], "text/html",              "<meta charset=\"iso-8859-1\"><p>café" },
    };

    [Theory]
    [MemberData(nameof(Decodings))]
    public void DecodesByBomThenCharsetThenMetaThenUtf8(byte[] bytes, string contentType, string text) =>
        Assert.Equal(text, DocumentDecoder.Decode(bytes, DocumentContentType.Parse(contentType)));

    [Fact]
    public void InvalidUtf8IsAClearError()
    {
        var e = Assert.Throws<InvalidDocumentException>(() => DocumentDecoder.Decode([0x63, 0xE9, 0x20], DocumentContentType.Parse("text/plain")));
        Assert.Contains("not valid utf-8", e.Message);
    }
}
