from loudou.cli import main

main()
