from esdh.cli.main import main

main()
