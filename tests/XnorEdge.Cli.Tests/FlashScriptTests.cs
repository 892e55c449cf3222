using System.Diagnostics;

namespace XnorEdge.Cli.Tests;

/// <summary>The firmware-tools/flash scripts: --dry-run prints the exact nanoff, dotnet, scp and ssh commands; usage errors exit 2.</summary>
public class FlashScriptTests
{
    private static string Script(string name) => Path.Combine(RepoPaths.Root, "firmware-tools", "flash", name);

    private static (int Code, string Stdout, string Stderr) Bash(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        start.ArgumentList.Add(Script(script));
        foreach (string a in args) start.ArgumentList.Add(a);
        // No nanoff, dotnet or ssh is needed for a dry run: a PATH without them proves it.
        start.Environment["PATH"] = "/usr/bin:/bin";
        using var p = Process.Start(start)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), script + " did not finish");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string[] Commands(string stdout) =>
        stdout.Split('\n').Where(l => l.StartsWith("+ ", StringComparison.Ordinal)).Select(l => l[2..]).ToArray();

    [Theory]
    [InlineData("esp32", "ESP32_REV3")]
    [InlineData("esp32-psram", "ESP32_PSRAM_REV3")]
    [InlineData("esp32-s3", "ESP32_S3_OCTAL")]
    public void FirmwareUpdateOfAnEsp32(string target, string firmware)
    {
        var (code, stdout, stderr) = Bash("nano-firmware.sh", "--target", target, "--port", "/dev/ttyUSB0", "--dry-run");
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { $"nanoff --update --target {firmware} --serialport /dev/ttyUSB0" }, Commands(stdout));
    }

    [Fact]
    public void FirmwareUpdateOfTheStm32GoesOverJtag()
    {
        var (code, stdout, _) = Bash("nano-firmware.sh", "--target", "stm32f769", "--dry-run");
        Assert.Equal(0, code);
        Assert.Equal(new[] { "nanoff --update --target ST_STM32F769I_DISCOVERY --jtag" }, Commands(stdout));
    }

    [Fact]
    public void AppDeployment()
    {
        var (code, stdout, _) = Bash("nano-deploy.sh", "--target", "esp32-s3", "--port", "COM5", "--image", "app.bin", "--dry-run");
        Assert.Equal(0, code);
        Assert.Equal(new[] { "nanoff --target ESP32_S3_OCTAL --serialport COM5 --deploy --image app.bin" }, Commands(stdout));
        (code, stdout, _) = Bash("nano-deploy.sh", "--target", "stm32f769", "--image", "app.bin", "--dry-run");
        Assert.Equal(0, code);
        Assert.Equal(new[] { "nanoff --target ST_STM32F769I_DISCOVERY --jtag --deploy --image app.bin --address 0x080C0000 --reset" }, Commands(stdout));
        // The default image is the sample app's build output.
        (code, stdout, _) = Bash("nano-deploy.sh", "--target", "esp32", "--port", "/dev/ttyACM0", "--dry-run");
        Assert.Equal(0, code);
        Assert.EndsWith("--deploy --image " + Path.Combine(RepoPaths.Root, "src/XnorEdge.Nano/Sample/bin/Release/XnorEdge.Nano.Sample.bin"), Commands(stdout).Single());
    }

    [Fact]
    public void ModelDeploymentToInternalStorage()
    {
        var (code, stdout, stderr) = Bash("nano-model.sh", "--model", "tests/fixtures/example.xnor", "--port", "/dev/ttyUSB0", "--dry-run");
        Assert.True(code == 0, stderr);
        string command = Commands(stdout).Single();
        Assert.StartsWith("nanoff --filedeployment ", command);
        // The deployment file, printed as comments: the port, I:\model.xnor and the model's absolute path.
        Assert.Contains("\"serialport\": \"/dev/ttyUSB0\"", stdout);
        Assert.Contains("\"DestinationFilePath\": \"I:\\\\model.xnor\"", stdout);
        Assert.Contains("\"SourceFilePath\": \"" + RepoPaths.ExampleModel + "\"", stdout);
        // The temporary deployment file is removed afterwards.
        Assert.False(File.Exists(command["nanoff --filedeployment ".Length..]));
    }

    [Fact]
    public void ModelDeploymentRefusesABoardWithoutStorage()
    {
        var (code, _, stderr) = Bash("nano-model.sh", "--model", "tests/fixtures/example.xnor", "--port", "COM3", "--target", "stm32f769", "--dry-run");
        Assert.Equal(1, code);
        Assert.Contains("no internal storage", stderr);
    }

    [Fact]
    public void PiDeployment()
    {
        var (code, stdout, stderr) = Bash("pi-deploy.sh", "--host", "me@raspberrypi.local", "--model", "tests/fixtures/example.xnor", "--dry-run");
        Assert.True(code == 0, stderr);
        string[] commands = Commands(stdout);
        Assert.Equal(new[]
        {
            $"dotnet publish {RepoPaths.Root}/src/XnorEdge.Pi -c Release -r linux-arm64 --self-contained false -o {RepoPaths.Root}/build/pi",
            "ssh me@raspberrypi.local rm\\ -rf\\ /tmp/xnoredge\\ \\&\\&\\ mkdir\\ -p\\ /tmp/xnoredge/models/fashion-mnist",
            $"scp -r {RepoPaths.Root}/build/pi/. me@raspberrypi.local:/tmp/xnoredge/",
            "scp tests/fixtures/example.xnor me@raspberrypi.local:/tmp/xnoredge/models/fashion-mnist/model.xnor",
        }, commands.Take(4).ToArray());
        Assert.Contains("sudo\\ cp\\ -r\\ /tmp/xnoredge/.\\ /opt/xnoredge/", commands[4]);
        Assert.Contains("useradd\\ --system", commands[5]);
        // The app's own unit (src/XnorEdge.Pi/xnoredge.service, in the publish output) is installed and started.
        Assert.Contains("sudo\\ cp\\ /opt/xnoredge/xnoredge.service\\ /etc/systemd/system/", commands[6]);
        Assert.Contains("enable\\ --now\\ xnoredge", commands[6]);
        Assert.Equal(7, commands.Length);
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "src", "XnorEdge.Pi", "xnoredge.service")), "the Pi app's unit moved");

        (code, stdout, _) = Bash("pi-deploy.sh", "--host", "raspberrypi", "--install-dotnet", "--no-start", "--dry-run");
        Assert.Equal(0, code);
        commands = Commands(stdout);
        Assert.Contains("dotnet-install.sh", commands[1]);
        Assert.DoesNotContain(commands, c => c.Contains("enable"));
        Assert.DoesNotContain(commands, c => c.StartsWith("scp tests", StringComparison.Ordinal));
        Assert.Equal(2, Bash("pi-deploy.sh", "--host", "pi@x;rm -rf /", "--dry-run").Code);
    }

    [Theory]
    [InlineData("nano-firmware.sh", "--target is required")]
    [InlineData("nano-deploy.sh", "--target is required")]
    [InlineData("nano-model.sh", "--model is required")]
    [InlineData("pi-deploy.sh", "--host is required")]
    [InlineData("nanoclr-host.sh", "--nf-interpreter is required")]
    public void MissingArgumentsPrintTheUsageAndExitTwo(string script, string message)
    {
        var (code, stdout, stderr) = Bash(script, "--dry-run");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("error: " + message, stderr);
        Assert.Contains("usage: " + script, stderr);
        (code, _, stderr) = Bash(script, "--bogus");
        Assert.Equal(2, code);
        Assert.Contains("unknown argument: --bogus", stderr);
        (code, stdout, _) = Bash(script, "--help");
        Assert.Equal(0, code);
        Assert.StartsWith("usage: " + script, stdout);
    }

    [Fact]
    public void UnknownTargetsAndMissingPortsAreUsageErrors()
    {
        Assert.Equal(2, Bash("nano-firmware.sh", "--target", "esp8266", "--dry-run").Code);
        var (code, _, stderr) = Bash("nano-firmware.sh", "--target", "esp32", "--dry-run");
        Assert.Equal(2, code);
        Assert.Contains("--port is required", stderr);
    }

    /// <summary>
    /// nanoclr-host.sh builds from copies: the checkouts are only read (tar from them), the native glue is added to
    /// the copy, everything lands in --out, which may not be inside the repository; a dry run writes nothing.
    /// </summary>
    [Fact]
    public void NanoClrHostBuildsFromCopiesOutsideTheRepository()
    {
        string outDir = Path.Combine(Path.GetTempPath(), "xnoredge-nanoclr-dry-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = Bash("nanoclr-host.sh", "--nf-interpreter", "/src/nf", "--corelib", "/src/cl", "--mdp", "/src/mdp",
            "--interop", "--images", "7", "--out", outDir, "--dry-run");
        Assert.True(code == 0, stderr);
        string[] commands = Commands(stdout);
        Assert.Contains($"tar -C /src/nf --exclude=.git -cf {outDir}/nf-src.tar .", commands);
        Assert.Contains(commands, c => c.EndsWith($"add-to-nf-interpreter.sh {outDir}/nf-src-interop --posix", StringComparison.Ordinal));
        Assert.Contains($"cmake -S {outDir}/nf-src-interop/targets/posix -B {outDir}/host-interop -G Ninja -DCMAKE_BUILD_TYPE=Release", commands);
        // Nothing is written under the checkouts; every file goes to the build folder.
        Assert.DoesNotContain(commands, c => c.StartsWith("write /src/", StringComparison.Ordinal) || c.Contains("-o /src/"));
        Assert.Contains(commands, c => c.StartsWith("python3 - ", StringComparison.Ordinal) && c.Contains(" 7 5 0 " + outDir + "/app-interop"));
        Assert.Contains(commands, c => c.Contains("-parse " + outDir + "/app-interop/out/XnorEdge.Nano.Native.dll"));
        Assert.False(Directory.Exists(outDir), "a dry run created the build folder");

        (code, _, stderr) = Bash("nanoclr-host.sh", "--nf-interpreter", "/src/nf", "--corelib", "/src/cl", "--mdp", "/src/mdp",
            "--out", Path.Combine(RepoPaths.Root, "build", "nanoclr"), "--dry-run");
        Assert.Equal(1, code);
        Assert.Contains("--out must be outside the repository", stderr);
        Assert.Equal(2, Bash("nanoclr-host.sh", "--nf-interpreter", "/a", "--corelib", "/b", "--mdp", "/c", "--images", "0", "--dry-run").Code);
    }

    [Fact]
    public void ScriptsAreStrict()
    {
        foreach (string script in new[] { "nano-firmware.sh", "nano-deploy.sh", "nano-model.sh", "pi-deploy.sh", "nanoclr-host.sh" })
        {
            string text = File.ReadAllText(Script(script));
            Assert.StartsWith("#!/usr/bin/env bash", text);
            Assert.Contains("set -euo pipefail", text);
        }
    }

    [Fact]
    public void TheNanoPackageHoldsWhatANanoClrRunBuiltAndRefusesWhatIsMissing()
    {
        using var dir = new TempDir();
        // A nanoclr-host.sh --out folder of one run: the .dll of each assembly, and its .pe and .pdbx.
        string pe = Directory.CreateDirectory(Path.Combine(dir.Path, "pe-t")).FullName;
        string dll = Directory.CreateDirectory(Path.Combine(dir.Path, "app-t", "out")).FullName;
        foreach (string name in new[] { "XnorEdge.Core", "XnorEdge.Nano.Native" })
        {
            File.WriteAllText(Path.Combine(dll, name + ".dll"), "dll");
            File.WriteAllText(Path.Combine(pe, name + ".pe"), "pe");
            File.WriteAllText(Path.Combine(pe, name + ".pdbx"), "pdbx");
        }
        string output = Path.Combine(dir.Path, "packages");
        var (code, stdout, stderr) = Bash("nano-package.sh", "--from", dir.Path, "--tag", "t", "-o", output, "--dry-run");
        Assert.True(code == 0, stderr);
        string pack = Assert.Single(Commands(stdout));
        Assert.StartsWith("dotnet pack ", pack);
        Assert.EndsWith($"-o {output} -nologo -v q", pack);

        File.Delete(Path.Combine(pe, "XnorEdge.Nano.Native.pe"));
        (code, _, stderr) = Bash("nano-package.sh", "--from", dir.Path, "--tag", "t", "--dry-run");
        Assert.Equal(1, code);
        Assert.Contains("XnorEdge.Nano.Native.pe is missing: run nanoclr-host.sh --interop --tag t first", stderr);
        (code, _, stderr) = Bash("nano-package.sh", "--tag", "t");
        Assert.Equal(2, code);
        Assert.Contains("--from and --tag are required", stderr);
    }
}
