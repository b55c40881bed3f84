from credex.cli.main import main

main()
